// SPDX-License-Identifier: GPL-2.0
/*
 * gcma_test: user-space test interface to GCMA.
 *
 * A misc device, /dev/gcma_test, whose ioctls register GCMA areas and
 * allocate and free ranges of page frames from them, or from the CMA
 * areas (through cma_alloc(), or dma_alloc_coherent() on a platform device
 * of the module per area, "gcma_test_dma.<index>", standing in for a
 * driver), timing the allocator in the kernel so that GCMA and CMA are
 * measured through one path. The interface, its ownership rules and its
 * errors are described in include/uapi/linux/gcma_test.h.
 *
 * The module can also register one area at load time:
 *
 *	insmod gcma_test.ko area_pages=32768
 *
 * registers an area named "gcma_test" of 128 MiB (kept if a previous load
 * registered it: areas are permanent).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cma.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/gcma.h>
#include <linux/gcma_test.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#define AREA_NAME	"gcma_test"

static unsigned long area_pages;
module_param(area_pages, ulong, 0444);
MODULE_PARM_DESC(area_pages, "Pages of a GCMA area to register at load (0: none)");

/*
 * Areas are permanent: registering cannot be allowed to take all memory.
 * 0 at load means half of RAM.
 */
static unsigned long max_area_pages;
module_param(max_area_pages, ulong, 0444);
MODULE_PARM_DESC(max_area_pages,
		 "Pages all GCMA areas may hold together, for REGISTER (0 at load: half of RAM)");

static_assert(GCMA_TEST_NAME_LEN == GCMA_AREA_NAME_LEN);
static_assert(GCMA_TEST_MAX_AREAS == GCMA_MAX_AREAS);
/* One layout for 32- and 64-bit callers: no padding, 8-byte multiples. */
static_assert(GCMA_TEST_PFN_MAX <= ULONG_MAX, "PFNs must fit unsigned long");
static_assert(sizeof(struct gcma_test_version) == 48);
static_assert(sizeof(struct gcma_test_register) == 72);
static_assert(sizeof(struct gcma_test_area_info) == 112);
static_assert(sizeof(struct gcma_test_range) == 56);

/* A range handed out by this module, owned by the open file that asked. */
struct gcma_test_alloc {
	struct list_head node;
	struct file *owner;
	enum gcma_test_target target;
	unsigned int index;
	unsigned long start_pfn;
	unsigned long count;
	bool compound;
	/* From dma_alloc_coherent(): freed whole, with these */
	bool dma;
	void *cpu_addr;
	dma_addr_t dma_handle;
	/*
	 * Reserved while an allocator runs, until the caller has the result,
	 * and while the range is given back: no other thread may free it.
	 */
	bool pending;
};

/*
 * Every range this module has handed out or is handing out, sorted by
 * start_pfn (ranges of different allocators never overlap, so one list
 * does); the lock also covers the CMA targets' statistics. It is not held
 * while an allocator runs: the range is reserved by a pending entry
 * instead, so a slow allocation does not hold up other files.
 */
static LIST_HEAD(allocs);
static DEFINE_MUTEX(allocs_lock);

/*
 * A CMA area, the default one first: areas are declared at boot only, so
 * the table is filled once, at load.
 */
struct cma_target {
	struct cma *cma;
	/* A device whose dev->cma_area is @cma, for dma_alloc_coherent() */
	struct platform_device *dma_dev;
	/* Statistics of this module's allocations, under allocs_lock */
	unsigned long allocated;
	unsigned long allocations;
	unsigned long failures;
};

static struct cma_target cma_targets[MAX_CMA_AREAS];
static unsigned int nr_cma_targets;

/* Serialises registration, so that a name is checked and taken at once. */
static DEFINE_MUTEX(register_lock);

static struct cma *default_cma(void)
{
	return dev_get_cma_area(NULL);
}

static unsigned long alloc_end(const struct gcma_test_alloc *a)
{
	return a->start_pfn + a->count;
}

static bool range_ok(u64 start_pfn, u64 count)
{
	return count && start_pfn <= GCMA_TEST_PFN_MAX &&
	       count <= GCMA_TEST_PFN_MAX + 1 - start_pfn;
}

/* The first entry that ends after @pfn: where [pfn, ...) would go. */
static struct list_head *allocs_from(unsigned long pfn)
{
	struct gcma_test_alloc *a;

	lockdep_assert_held(&allocs_lock);
	list_for_each_entry(a, &allocs, node)
		if (alloc_end(a) > pfn)
			return &a->node;
	return &allocs;
}

static bool allocs_overlap(unsigned long start_pfn, unsigned long count)
{
	struct list_head *pos = allocs_from(start_pfn);

	return pos != &allocs &&
	       list_entry(pos, struct gcma_test_alloc, node)->start_pfn <
	       start_pfn + count;
}

/*
 * First fit of @count pages aligned to @align in [base, end), around what
 * this module has handed out; ULONG_MAX if there is no room.
 */
static unsigned long allocs_first_fit(unsigned long base, unsigned long end,
				      unsigned long count, unsigned long align)
{
	unsigned long pfn = ALIGN(base, align);
	struct list_head *pos;

	for (pos = allocs_from(pfn); pos != &allocs; pos = pos->next) {
		struct gcma_test_alloc *a =
			list_entry(pos, struct gcma_test_alloc, node);

		if (a->start_pfn >= end || a->start_pfn >= pfn + count)
			break;
		/* @a may end inside the gap that aligning pfn skipped */
		pfn = max(pfn, ALIGN(alloc_end(a), align));
	}
	if (pfn >= end || end - pfn < count)
		return ULONG_MAX;
	return pfn;
}

static void allocs_insert(struct gcma_test_alloc *new)
{
	list_add_tail(&new->node, allocs_from(new->start_pfn));
}

static int check_area(unsigned int index, struct gcma_area_info *info)
{
	int err;

	if (!IS_ENABLED(CONFIG_GCMA))
		return -ENODEV;
	err = gcma_area_info(index, info);
	return err == -EOPNOTSUPP ? -ENODEV : err;
}

static unsigned long cma_base_pfn(const struct cma *cma)
{
	return PHYS_PFN(cma_get_base(cma));
}

static unsigned long cma_pages(const struct cma *cma)
{
	return cma_get_size(cma) >> PAGE_SHIFT;
}

/* Whether [pfn, pfn + count) lies inside CMA area @t. */
static bool in_cma_area(const struct cma_target *t, unsigned long pfn,
			unsigned long count)
{
	unsigned long base = cma_base_pfn(t->cma);

	return pfn >= base && pfn + count <= base + cma_pages(t->cma);
}

/* Whether GCMA area @info is the backing of a guaranteed CMA area. */
static bool backs_cma(const struct gcma_area_info *info)
{
	unsigned int i;

	for (i = 0; i < nr_cma_targets; i++)
		if (cma_is_guaranteed(cma_targets[i].cma) &&
		    cma_base_pfn(cma_targets[i].cma) == info->start_pfn)
			return true;
	return false;
}

/* Pages of the GCMA area backing guaranteed CMA area @cma holding copies */
static unsigned long cma_cached(const struct cma *cma)
{
	struct gcma_area_info info;
	unsigned int i;

	if (!IS_ENABLED(CONFIG_GCMA) || !cma_is_guaranteed(cma))
		return 0;
	for (i = 0; !gcma_area_info(i, &info); i++)
		if (info.start_pfn == cma_base_pfn(cma))
			return info.cached;
	return 0;
}

static int ioc_version(struct gcma_test_version *v)
{
	if (memchr_inv(v->reserved, 0, sizeof(v->reserved)))
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	v->abi_version = GCMA_TEST_ABI_VERSION;
	if (IS_ENABLED(CONFIG_GCMA))
		v->features |= GCMA_TEST_FEATURE_GCMA;
	if (default_cma())
		v->features |= GCMA_TEST_FEATURE_CMA;
	v->features |= GCMA_TEST_FEATURE_CMA_AREAS;
	v->page_size = PAGE_SIZE;
	v->max_areas = GCMA_TEST_MAX_AREAS;
	return 0;
}

/* Pages of all GCMA areas, whoever registered them */
static unsigned long areas_pages(void)
{
	struct gcma_area_info info;
	unsigned long pages = 0;
	unsigned int i;

	for (i = 0; !gcma_area_info(i, &info); i++)
		pages += info.count;
	return pages;
}

/* The index of the GCMA area called @name, or -ENOENT. */
static int find_area(const char *name)
{
	struct gcma_area_info info;
	unsigned int i;

	for (i = 0; !gcma_area_info(i, &info); i++)
		if (!strcmp(info.name, name))
			return i;
	return -ENOENT;
}

/*
 * Pages for a new area: from the page allocator, or carved out of the CMA
 * area for good, the way a device's reserved memory would be split.
 */
static int register_range(const char *name, unsigned long count,
			  struct cma *cma, unsigned long *base_pfn)
{
	struct page *page;
	unsigned long pfn;
	int err;

	if (cma)
		page = cma_alloc(cma, count, 0, true);
	else
		page = alloc_contig_pages(count, GFP_KERNEL | __GFP_NOWARN,
					  numa_mem_id(), NULL);
	if (!page)
		return -ENOMEM;
	pfn = page_to_pfn(page);
	err = gcma_register_area(name, pfn, count);
	if (err) {
		if (cma)
			cma_release(cma, page, count);
		else
			free_contig_range(pfn, count);
		return err;
	}
	*base_pfn = pfn;
	return 0;
}

static int ioc_register(struct gcma_test_register *r)
{
	struct gcma_area_info info;
	unsigned long base_pfn;
	struct cma *cma;
	int err;

	if (r->flags & ~GCMA_TEST_REGISTER_FLAGS ||
	    memchr_inv(r->reserved, 0, sizeof(r->reserved)))
		return -EINVAL;
	if (!memchr(r->name, 0, sizeof(r->name)))
		return -ENAMETOOLONG;
	if (!r->name[0] || strchr(r->name, '/') || !range_ok(0, r->count))
		return -EINVAL;
	if (!IS_ENABLED(CONFIG_GCMA))
		return -ENODEV;
	cma = r->flags & GCMA_TEST_REGISTER_FROM_CMA ? default_cma() : NULL;
	if (r->flags & GCMA_TEST_REGISTER_FROM_CMA && !cma)
		return -ENODEV;
	/* Its pages are GCMA's already: they cannot make a second area. */
	if (cma && cma_is_guaranteed(cma))
		return -EOPNOTSUPP;

	mutex_lock(&register_lock);
	/* Fail before taking memory for an area that cannot be registered. */
	err = -ENOSPC;
	if (!gcma_area_info(GCMA_TEST_MAX_AREAS - 1, &info) ||
	    r->count > max_area_pages - min(areas_pages(), max_area_pages))
		goto unlock;
	err = -EEXIST;
	if (find_area(r->name) >= 0)
		goto unlock;
	err = register_range(r->name, r->count, cma, &base_pfn);
	if (err)
		goto unlock;
	r->base_pfn = base_pfn;
	r->index = find_area(r->name);
	pr_info("area %s: %llu pages at PFN %#lx%s, index %u\n", r->name,
		r->count, base_pfn, cma ? " (from CMA)" : "", r->index);
unlock:
	mutex_unlock(&register_lock);
	return err;
}

/* Pages that @file owns from area @index of @target. */
static unsigned long owned_pages(struct file *file,
				 enum gcma_test_target target,
				 unsigned int index)
{
	struct gcma_test_alloc *a;
	unsigned long owned = 0;

	lockdep_assert_held(&allocs_lock);
	list_for_each_entry(a, &allocs, node)
		if (a->owner == file && a->target == target &&
		    a->index == index && !a->pending)
			owned += a->count;
	return owned;
}

static int ioc_area_info(struct file *file, struct gcma_test_area_info *ai)
{
	enum gcma_test_target target = ai->target;
	unsigned int index = ai->index;
	struct gcma_area_info info;
	struct cma_target *t;
	int err;

	if (ai->reserved)
		return -EINVAL;
	memset(ai, 0, sizeof(*ai));
	ai->target = target;
	ai->index = index;

	switch (target) {
	case GCMA_TEST_TARGET_GCMA:
		err = check_area(index, &info);
		if (err)
			return err;
		strscpy(ai->name, info.name);
		ai->base_pfn = info.start_pfn;
		ai->count = info.count;
		ai->allocated = info.allocated;
		ai->cached = info.cached;
		ai->allocations = info.allocations;
		ai->failures = info.failures;
		if (backs_cma(&info))
			ai->flags |= GCMA_TEST_AREA_GUARANTEED;
		break;
	case GCMA_TEST_TARGET_CMA:
		if (index >= nr_cma_targets)
			return -ENOENT;
		t = &cma_targets[index];
		strscpy(ai->name, cma_get_name(t->cma));
		ai->base_pfn = cma_base_pfn(t->cma);
		ai->count = cma_pages(t->cma);
		ai->cached = cma_cached(t->cma);
		if (t->cma == default_cma())
			ai->flags |= GCMA_TEST_AREA_DEFAULT;
		if (cma_is_guaranteed(t->cma))
			ai->flags |= GCMA_TEST_AREA_GUARANTEED;
		/* One look, so that owned never exceeds allocated */
		mutex_lock(&allocs_lock);
		ai->allocated = t->allocated;
		ai->allocations = t->allocations;
		ai->failures = t->failures;
		ai->owned = owned_pages(file, target, index);
		mutex_unlock(&allocs_lock);
		return 0;
	default:
		return -EINVAL;
	}
	mutex_lock(&allocs_lock);
	ai->owned = owned_pages(file, target, index);
	mutex_unlock(&allocs_lock);
	return 0;
}

/* Reserve the range of @a in GCMA area @info, as @r asks. */
static int reserve_gcma_range(struct gcma_test_alloc *a,
			      const struct gcma_area_info *info,
			      const struct gcma_test_range *r)
{
	unsigned long area_end = info->start_pfn + info->count;

	lockdep_assert_held(&allocs_lock);
	if (r->flags & GCMA_TEST_ALLOC_ANYWHERE) {
		a->start_pfn = allocs_first_fit(info->start_pfn, area_end,
						a->count,
						a->compound ? a->count : 1);
		if (a->start_pfn == ULONG_MAX)
			return -ENOMEM;
	} else {
		a->start_pfn = r->start_pfn;
		if (a->start_pfn < info->start_pfn || a->start_pfn > area_end ||
		    a->count > area_end - a->start_pfn)
			return -ERANGE;
		if (allocs_overlap(a->start_pfn, a->count))
			return -EBUSY;
	}
	a->pending = true;
	allocs_insert(a);
	return 0;
}

static int alloc_gcma(struct gcma_test_alloc *a, struct gcma_test_range *r)
{
	struct gcma_area_info info;
	u64 start;
	int err;

	err = check_area(r->index, &info);
	if (err)
		return err;
	if (a->dma || backs_cma(&info))
		return -EOPNOTSUPP;
	mutex_lock(&allocs_lock);
	err = reserve_gcma_range(a, &info, r);
	mutex_unlock(&allocs_lock);
	if (err)
		return err;

	start = ktime_get_ns();
	err = gcma_alloc_range(a->start_pfn, a->count,
			       GFP_KERNEL | (a->compound ? __GFP_COMP : 0));
	r->kernel_ns = ktime_get_ns() - start;

	/* On success the entry stays pending until the caller has the range. */
	if (err) {
		mutex_lock(&allocs_lock);
		list_del(&a->node);
		mutex_unlock(&allocs_lock);
	}
	return err;
}

/* dma_alloc_coherent() on the area's device: as a driver would allocate */
static struct page *alloc_dma(struct cma_target *t, struct gcma_test_alloc *a)
{
	a->cpu_addr = dma_alloc_coherent(&t->dma_dev->dev, a->count << PAGE_SHIFT,
					 &a->dma_handle, GFP_KERNEL | __GFP_NOWARN);
	if (!a->cpu_addr)
		return NULL;
	if (is_vmalloc_addr(a->cpu_addr))
		return vmalloc_to_page(a->cpu_addr);
	return virt_to_page(a->cpu_addr);
}

static int alloc_cma(struct gcma_test_alloc *a, struct gcma_test_range *r)
{
	struct cma_target *t;
	struct page *page;
	u64 start;

	if (r->index >= nr_cma_targets)
		return -ENOENT;
	t = &cma_targets[r->index];
	if (!(r->flags & GCMA_TEST_ALLOC_ANYWHERE) ||
	    r->flags & GCMA_TEST_ALLOC_COMPOUND || (a->dma && !t->dma_dev))
		return -EOPNOTSUPP;

	start = ktime_get_ns();
	if (!a->dma)
		page = cma_alloc(t->cma, a->count, 0, true);
	else if (a->count <= cma_pages(t->cma))
		page = alloc_dma(t, a);
	else	/* it could only come from the page allocator */
		page = NULL;
	r->kernel_ns = ktime_get_ns() - start;

	/*
	 * dma-direct falls back to the page allocator when CMA fails: memory
	 * from outside the area is no allocation from it.
	 */
	if (page && !in_cma_area(t, page_to_pfn(page), a->count)) {
		dma_free_coherent(&t->dma_dev->dev, a->count << PAGE_SHIFT,
				  a->cpu_addr, a->dma_handle);
		page = NULL;
	}

	mutex_lock(&allocs_lock);
	if (page) {
		a->start_pfn = page_to_pfn(page);
		a->pending = true;
		allocs_insert(a);
		t->allocated += a->count;
		t->allocations++;
	} else {
		t->failures++;
	}
	mutex_unlock(&allocs_lock);
	return page ? 0 : -ENOMEM;
}

/*
 * Allocate as @r asks. On success *@ap is the new entry, still pending:
 * the caller publishes it once the range is written back, or undoes it.
 */
static int ioc_alloc(struct file *file, struct gcma_test_range *r,
		     struct gcma_test_alloc **ap)
{
	struct gcma_test_alloc *a;
	int err;

	if (r->reserved0 || memchr_inv(r->reserved, 0, sizeof(r->reserved)) ||
	    r->flags & ~GCMA_TEST_ALLOC_FLAGS)
		return -EINVAL;
	if (r->target != GCMA_TEST_TARGET_GCMA &&
	    r->target != GCMA_TEST_TARGET_CMA)
		return -EINVAL;
	if (!range_ok(r->flags & GCMA_TEST_ALLOC_ANYWHERE ? 0 : r->start_pfn,
		      r->count))
		return -EINVAL;
	if (r->flags & GCMA_TEST_ALLOC_COMPOUND &&
	    (!is_power_of_2(r->count) || r->count > MAX_ORDER_NR_PAGES ||
	     (!(r->flags & GCMA_TEST_ALLOC_ANYWHERE) &&
	      !IS_ALIGNED(r->start_pfn, r->count))))
		return -EINVAL;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	a->owner = file;
	a->target = r->target;
	a->index = r->index;
	a->count = r->count;
	a->compound = r->flags & GCMA_TEST_ALLOC_COMPOUND;
	a->dma = r->flags & GCMA_TEST_ALLOC_DMA;

	if (r->target == GCMA_TEST_TARGET_GCMA)
		err = alloc_gcma(a, r);
	else
		err = alloc_cma(a, r);
	if (err) {
		kfree(a);
		return err;
	}
	r->start_pfn = a->start_pfn;
	*ap = a;
	return 0;
}

/*
 * Give [start_pfn, start_pfn + count) of @a back to its allocator, without
 * allocs_lock: @a is pending, so no other thread touches the range.
 */
static int give_back(struct gcma_test_alloc *a, unsigned long start_pfn,
		     unsigned long count, u64 *kernel_ns)
{
	struct cma_target *t = NULL;
	u64 start = ktime_get_ns();
	int err = 0;

	lockdep_assert_not_held(&allocs_lock);
	if (a->target == GCMA_TEST_TARGET_CMA)
		t = &cma_targets[a->index];
	if (!t)
		err = gcma_free_range(start_pfn, count);
	else if (a->dma)
		dma_free_coherent(&t->dma_dev->dev, count << PAGE_SHIFT,
				  a->cpu_addr, a->dma_handle);
	else if (!cma_release(t->cma, pfn_to_page(start_pfn), count))
		err = -EINVAL;
	*kernel_ns = ktime_get_ns() - start;
	if (t && !err) {
		mutex_lock(&allocs_lock);
		t->allocated -= count;
		mutex_unlock(&allocs_lock);
	}
	return err;
}

/* Let other threads of the file see @a again: it is allocated and settled. */
static void publish(struct gcma_test_alloc *a)
{
	mutex_lock(&allocs_lock);
	a->pending = false;
	mutex_unlock(&allocs_lock);
}

/* Drop the entry of an allocation that was given back whole. */
static void forget(struct gcma_test_alloc *a)
{
	mutex_lock(&allocs_lock);
	list_del(&a->node);
	mutex_unlock(&allocs_lock);
	kfree(a);
}

/*
 * The allocation of @file that holds all of [start_pfn, end_pfn), or an
 * error saying why there is none.
 */
static struct gcma_test_alloc *find_owned(struct file *file,
					  enum gcma_test_target target,
					  unsigned long start_pfn,
					  unsigned long end_pfn)
{
	struct gcma_test_alloc *a, *first = NULL;
	struct list_head *pos;

	lockdep_assert_held(&allocs_lock);
	for (pos = allocs_from(start_pfn); pos != &allocs; pos = pos->next) {
		a = list_entry(pos, struct gcma_test_alloc, node);
		if (a->start_pfn >= end_pfn)
			break;
		/* Another file's range being allocated is not there yet */
		if (a->pending && a->owner != file)
			continue;
		if (a->owner != file)
			return ERR_PTR(-EACCES);
		/* Being allocated or freed by another thread of this file */
		if (a->pending)
			return ERR_PTR(-EBUSY);
		if (!first)
			first = a;
	}
	if (!first || first->target != target)
		return ERR_PTR(-ENOENT);
	if (first->start_pfn > start_pfn || alloc_end(first) < end_pfn)
		return ERR_PTR(-EINVAL);
	if ((first->compound || first->dma) &&
	    (first->start_pfn != start_pfn || alloc_end(first) != end_pfn))
		return ERR_PTR(-EINVAL);
	return first;
}

static int ioc_free(struct file *file, struct gcma_test_range *r)
{
	struct gcma_test_alloc *a, *tail;
	unsigned long start_pfn, end_pfn;
	int err;

	if (r->reserved0 || memchr_inv(r->reserved, 0, sizeof(r->reserved)) ||
	    r->flags)
		return -EINVAL;
	if (r->target != GCMA_TEST_TARGET_GCMA &&
	    r->target != GCMA_TEST_TARGET_CMA)
		return -EINVAL;
	if (!range_ok(r->start_pfn, r->count))
		return -EINVAL;
	start_pfn = r->start_pfn;
	end_pfn = start_pfn + r->count;

	/* Freeing the middle of an allocation splits it in two. */
	tail = kzalloc(sizeof(*tail), GFP_KERNEL);
	if (!tail)
		return -ENOMEM;

	mutex_lock(&allocs_lock);
	a = find_owned(file, r->target, start_pfn, end_pfn);
	if (IS_ERR(a)) {
		err = PTR_ERR(a);
		goto unlock;
	}
	r->index = a->index;
	/* A large free must not hold up the other files: free unlocked. */
	a->pending = true;
	mutex_unlock(&allocs_lock);
	err = give_back(a, start_pfn, r->count, &r->kernel_ns);
	mutex_lock(&allocs_lock);
	a->pending = false;
	/* -EIO: GCMA freed the range but kept its bad pages out of use. */
	if (err && err != -EIO)
		goto unlock;

	if (alloc_end(a) > end_pfn) {
		*tail = *a;
		tail->start_pfn = end_pfn;
		tail->count = alloc_end(a) - end_pfn;
		list_add(&tail->node, &a->node);
		tail = NULL;
	}
	a->count = start_pfn - a->start_pfn;
	if (!a->count) {
		list_del(&a->node);
		kfree(a);
	}
unlock:
	mutex_unlock(&allocs_lock);
	kfree(tail);
	return err;
}

static long gcma_test_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	union {
		struct gcma_test_version version;
		struct gcma_test_register reg;
		struct gcma_test_area_info info;
		struct gcma_test_range range;
	} u;
	int err;

	switch (cmd) {
	case GCMA_TEST_IOC_VERSION:
	case GCMA_TEST_IOC_REGISTER:
	case GCMA_TEST_IOC_AREA_INFO:
	case GCMA_TEST_IOC_ALLOC:
	case GCMA_TEST_IOC_FREE:
		break;
	default:
		return -ENOTTY;
	}
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&u, uarg, _IOC_SIZE(cmd)))
		return -EFAULT;

	switch (cmd) {
	case GCMA_TEST_IOC_VERSION:
		err = ioc_version(&u.version);
		break;
	case GCMA_TEST_IOC_REGISTER:
		err = ioc_register(&u.reg);
		break;
	case GCMA_TEST_IOC_AREA_INFO:
		err = ioc_area_info(file, &u.info);
		break;
	case GCMA_TEST_IOC_ALLOC: {
		struct gcma_test_alloc *a;
		u64 ns;

		err = ioc_alloc(file, &u.range, &a);
		if (err)
			return err;
		if (!copy_to_user(uarg, &u, _IOC_SIZE(cmd))) {
			publish(a);
			return 0;
		}
		/* The caller cannot learn the range: take it back. */
		if (give_back(a, a->start_pfn, a->count, &ns))
			publish(a);
		else
			forget(a);
		return -EFAULT;
	}
	case GCMA_TEST_IOC_FREE:
		err = ioc_free(file, &u.range);
		break;
	}
	if (err)
		return err;
	if (copy_to_user(uarg, &u, _IOC_SIZE(cmd)))
		return -EFAULT;
	return 0;
}

/* The next allocation of @file to give back, made pending; or NULL. */
static struct gcma_test_alloc *take_owned(struct file *file)
{
	struct gcma_test_alloc *a;

	mutex_lock(&allocs_lock);
	list_for_each_entry(a, &allocs, node) {
		if (a->owner == file && !a->pending) {
			a->pending = true;
			mutex_unlock(&allocs_lock);
			return a;
		}
	}
	mutex_unlock(&allocs_lock);
	return NULL;
}

/*
 * Free what the file still owns, one allocation at a time and unlocked, so
 * that closing a file that holds much does not hold up the others.
 */
static int gcma_test_release(struct inode *inode, struct file *file)
{
	struct gcma_test_alloc *a;
	u64 ns;

	while ((a = take_owned(file))) {
		if (give_back(a, a->start_pfn, a->count, &ns))
			pr_err("PFNs %#lx-%#lx could not be freed\n",
			       a->start_pfn, alloc_end(a) - 1);
		forget(a);
		cond_resched();
	}
	return 0;
}

static const struct file_operations gcma_test_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = gcma_test_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = gcma_test_release,
};

static struct miscdevice gcma_test_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "gcma_test",
	.fops = &gcma_test_fops,
	.mode = 0600,
};

static int __init register_param_area(void)
{
	struct gcma_test_register r = { .name = AREA_NAME };
	int err;

	if (!area_pages)
		return 0;
	r.count = area_pages;
	err = ioc_register(&r);
	/* Registered by an earlier load: areas are permanent. */
	return err == -EEXIST ? 0 : err;
}

static int __init add_cma_target(struct cma *cma, void *data)
{
	if (nr_cma_targets == MAX_CMA_AREAS)
		return -ENOSPC;
	cma_targets[nr_cma_targets++].cma = cma;
	return 0;
}

/*
 * The CMA targets: the default area first, as index 0 was the default area
 * before every area was reachable, then the others in cma_for_each_area()
 * order.
 */
static int __init add_cma_targets(void)
{
	struct cma *def = default_cma();
	unsigned int i;
	int err;

	err = cma_for_each_area(add_cma_target, NULL);
	if (err)
		return err;
	for (i = 1; i < nr_cma_targets; i++) {
		if (cma_targets[i].cma == def) {
			memmove(&cma_targets[1], &cma_targets[0],
				i * sizeof(cma_targets[0]));
			cma_targets[0].cma = def;
			break;
		}
	}
	return 0;
}

/* A device of the module that uses CMA area @t, as a driver's would. */
static int __init add_dma_dev(struct cma_target *t, unsigned int index)
{
	struct platform_device *pdev;
	int err;

	if (!IS_ENABLED(CONFIG_DMA_CMA))
		return 0;
	pdev = platform_device_alloc("gcma_test_dma", index);
	if (!pdev)
		return -ENOMEM;
	/* Set before the device is announced: no one sees it without */
#ifdef CONFIG_DMA_CMA
	pdev->dev.cma_area = t->cma;
#endif
	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (!err)
		err = platform_device_add(pdev);
	if (err) {
		platform_device_put(pdev);
		return err;
	}
	t->dma_dev = pdev;
	return 0;
}

static void remove_dma_devs(void)
{
	unsigned int i;

	for (i = 0; i < nr_cma_targets; i++)
		platform_device_unregister(cma_targets[i].dma_dev);
}

static int __init gcma_test_init(void)
{
	unsigned int i;
	int err;

	if (!max_area_pages)
		max_area_pages = totalram_pages() / 2;
	err = add_cma_targets();
	if (err)
		return err;
	for (i = 0; i < nr_cma_targets; i++) {
		err = add_dma_dev(&cma_targets[i], i);
		if (err)
			goto remove;
	}
	err = register_param_area();
	if (err)
		goto remove;
	err = misc_register(&gcma_test_dev);
	if (err)
		goto remove;
	pr_info("loaded (CONFIG_GCMA=%s, %u CMA areas)\n",
		IS_ENABLED(CONFIG_GCMA) ? "y" : "n", nr_cma_targets);
	return 0;
remove:
	remove_dma_devs();
	return err;
}

static void __exit gcma_test_exit(void)
{
	misc_deregister(&gcma_test_dev);
	remove_dma_devs();
	pr_info("unloaded\n");
}

module_init(gcma_test_init);
module_exit(gcma_test_exit);

MODULE_DESCRIPTION("GCMA test interface");
MODULE_LICENSE("GPL");
