// SPDX-License-Identifier: GPL-2.0
/*
 * gcma_vendor_heap: a dma-buf heap over a region registered with GCMA,
 * written the way Android's vendor heaps for cameras and displays are:
 * against Android's GCMA interface (register_gcma_area(), and
 * gcma_alloc_range()/gcma_free_range() on inclusive PFN ranges, no return
 * value), which <linux/gcma.h> gives to a module built with
 * GCMA_ANDROID_API defined (see the Kbuild file).
 *
 * Where a device tree's reserved-memory node would give the region, the
 * region= parameter names one that the reserve_mem= boot parameter set
 * aside (reserve_mem=16M:2M:vendor): memory no one else uses, as GCMA
 * needs. The heap and the GCMA area take its name. A gen_pool picks each
 * buffer's range, GCMA takes the range back from cleancache, the heap
 * zeroes it (it held copies of file data a moment ago) and exports it.
 *
 * GCMA areas and dma-buf heaps are permanent: the module has no exit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/dma-mapping.h>
#include <linux/gcma.h>
#include <linux/genalloc.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

static char *region;
module_param(region, charp, 0444);
MODULE_PARM_DESC(region, "the reserve_mem= region to take, by name");

/* What the region turned out to be, for user space to read */
static unsigned long long base;
module_param(base, ullong, 0444);
MODULE_PARM_DESC(base, "physical address of the region (read-only)");
static unsigned long long size;
module_param(size, ullong, 0444);
MODULE_PARM_DESC(size, "size of the region in bytes (read-only)");

static struct gen_pool *vendor_pool;

struct vendor_buffer {
	struct list_head attachments;
	struct mutex lock;		/* attachments, vaddr and vmap_count */
	phys_addr_t addr;
	size_t size;
	void *vaddr;
	int vmap_count;
};

struct vendor_attachment {
	struct device *dev;
	struct sg_table table;
	struct list_head list;
	bool mapped;
};

static unsigned long buffer_pfn(struct vendor_buffer *buf)
{
	return PHYS_PFN(buf->addr);
}

static unsigned long buffer_pages(struct vendor_buffer *buf)
{
	return buf->size >> PAGE_SHIFT;
}

static int vendor_heap_attach(struct dma_buf *dmabuf,
			      struct dma_buf_attachment *attachment)
{
	struct vendor_buffer *buf = dmabuf->priv;
	struct vendor_attachment *a;
	int err;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	/* One contiguous range: one entry */
	err = sg_alloc_table(&a->table, 1, GFP_KERNEL);
	if (err) {
		kfree(a);
		return err;
	}
	sg_set_page(a->table.sgl, pfn_to_page(buffer_pfn(buf)), buf->size, 0);
	a->dev = attachment->dev;
	attachment->priv = a;

	mutex_lock(&buf->lock);
	list_add(&a->list, &buf->attachments);
	mutex_unlock(&buf->lock);
	return 0;
}

static void vendor_heap_detach(struct dma_buf *dmabuf,
			       struct dma_buf_attachment *attachment)
{
	struct vendor_buffer *buf = dmabuf->priv;
	struct vendor_attachment *a = attachment->priv;

	mutex_lock(&buf->lock);
	list_del(&a->list);
	mutex_unlock(&buf->lock);
	sg_free_table(&a->table);
	kfree(a);
}

static struct sg_table *vendor_heap_map(struct dma_buf_attachment *attachment,
					enum dma_data_direction dir)
{
	struct vendor_attachment *a = attachment->priv;
	int err;

	err = dma_map_sgtable(attachment->dev, &a->table, dir, 0);
	if (err)
		return ERR_PTR(err);
	a->mapped = true;
	return &a->table;
}

static void vendor_heap_unmap(struct dma_buf_attachment *attachment,
			      struct sg_table *table,
			      enum dma_data_direction dir)
{
	struct vendor_attachment *a = attachment->priv;

	a->mapped = false;
	dma_unmap_sgtable(attachment->dev, table, dir, 0);
}

static int vendor_heap_begin_cpu_access(struct dma_buf *dmabuf,
					enum dma_data_direction dir)
{
	struct vendor_buffer *buf = dmabuf->priv;
	struct vendor_attachment *a;

	mutex_lock(&buf->lock);
	if (buf->vmap_count)
		invalidate_kernel_vmap_range(buf->vaddr, buf->size);
	list_for_each_entry(a, &buf->attachments, list)
		if (a->mapped)
			dma_sync_sgtable_for_cpu(a->dev, &a->table, dir);
	mutex_unlock(&buf->lock);
	return 0;
}

static int vendor_heap_end_cpu_access(struct dma_buf *dmabuf,
				      enum dma_data_direction dir)
{
	struct vendor_buffer *buf = dmabuf->priv;
	struct vendor_attachment *a;

	mutex_lock(&buf->lock);
	if (buf->vmap_count)
		flush_kernel_vmap_range(buf->vaddr, buf->size);
	list_for_each_entry(a, &buf->attachments, list)
		if (a->mapped)
			dma_sync_sgtable_for_device(a->dev, &a->table, dir);
	mutex_unlock(&buf->lock);
	return 0;
}

static int vendor_heap_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct vendor_buffer *buf = dmabuf->priv;

	/* dma_buf_mmap_internal() checked the bounds already */
	if (vma->vm_pgoff >= buffer_pages(buf) ||
	    vma_pages(vma) > buffer_pages(buf) - vma->vm_pgoff)
		return -EINVAL;
	return remap_pfn_range(vma, vma->vm_start,
			       buffer_pfn(buf) + vma->vm_pgoff,
			       vma->vm_end - vma->vm_start, vma->vm_page_prot);
}

/* The pages are contiguous but may be highmem: map them with vmap() */
static void *vendor_heap_do_vmap(struct vendor_buffer *buf)
{
	unsigned long i, n = buffer_pages(buf);
	struct page **pages;
	void *vaddr;

	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < n; i++)
		pages[i] = pfn_to_page(buffer_pfn(buf) + i);
	vaddr = vmap(pages, n, VM_MAP, PAGE_KERNEL);
	kvfree(pages);
	return vaddr ?: ERR_PTR(-ENOMEM);
}

static int vendor_heap_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct vendor_buffer *buf = dmabuf->priv;
	void *vaddr;
	int err = 0;

	mutex_lock(&buf->lock);
	if (!buf->vmap_count) {
		vaddr = vendor_heap_do_vmap(buf);
		if (IS_ERR(vaddr)) {
			err = PTR_ERR(vaddr);
			goto unlock;
		}
		buf->vaddr = vaddr;
	}
	buf->vmap_count++;
	iosys_map_set_vaddr(map, buf->vaddr);
unlock:
	mutex_unlock(&buf->lock);
	return err;
}

static void vendor_heap_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct vendor_buffer *buf = dmabuf->priv;

	mutex_lock(&buf->lock);
	if (!--buf->vmap_count) {
		vunmap(buf->vaddr);
		buf->vaddr = NULL;
	}
	mutex_unlock(&buf->lock);
	iosys_map_clear(map);
}

/* Give a buffer's range back: to GCMA, which donates it to cleancache, then to the pool */
static void vendor_heap_free_range(struct vendor_buffer *buf)
{
	gcma_free_range(buffer_pfn(buf), buffer_pfn(buf) + buffer_pages(buf) - 1);
	gen_pool_free(vendor_pool, buf->addr, buf->size);
}

static void vendor_heap_release(struct dma_buf *dmabuf)
{
	struct vendor_buffer *buf = dmabuf->priv;

	/* The dma-buf core keeps a buffer with kernel mappings alive */
	if (WARN_ON_ONCE(buf->vmap_count))
		vunmap(buf->vaddr);
	vendor_heap_free_range(buf);
	kfree(buf);
}

static const struct dma_buf_ops vendor_heap_buf_ops = {
	.attach = vendor_heap_attach,
	.detach = vendor_heap_detach,
	.map_dma_buf = vendor_heap_map,
	.unmap_dma_buf = vendor_heap_unmap,
	.begin_cpu_access = vendor_heap_begin_cpu_access,
	.end_cpu_access = vendor_heap_end_cpu_access,
	.mmap = vendor_heap_mmap,
	.vmap = vendor_heap_vmap,
	.vunmap = vendor_heap_vunmap,
	.release = vendor_heap_release,
};

/*
 * The pages held cleancache's copies of file data until gcma_alloc_range()
 * took them: zero them before anyone sees them, always.
 */
static int vendor_heap_clear(struct vendor_buffer *buf)
{
	unsigned long i;

	for (i = 0; i < buffer_pages(buf); i++) {
		clear_highpage(pfn_to_page(buffer_pfn(buf) + i));
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

static struct dma_buf *vendor_heap_allocate(struct dma_heap *heap,
					    unsigned long len, u32 fd_flags,
					    u64 heap_flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct vendor_buffer *buf;
	struct dma_buf *dmabuf;
	int err;

	/* One scatterlist entry per buffer, and an entry's length is 32 bits */
	if (len > UINT_MAX)
		return ERR_PTR(-EINVAL);
	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&buf->attachments);
	mutex_init(&buf->lock);
	/* The heap core page-aligned len and refused 0 */
	buf->size = len;
	buf->addr = gen_pool_alloc(vendor_pool, buf->size);
	if (!buf->addr) {
		err = -ENOMEM;
		goto free_buf;
	}
	gcma_alloc_range(buffer_pfn(buf), buffer_pfn(buf) + buffer_pages(buf) - 1);
	err = vendor_heap_clear(buf);
	if (err)
		goto free_range;

	exp_info.exp_name = dma_heap_get_name(heap);
	exp_info.ops = &vendor_heap_buf_ops;
	exp_info.size = buf->size;
	exp_info.flags = fd_flags;
	exp_info.priv = buf;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		err = PTR_ERR(dmabuf);
		goto free_range;
	}
	return dmabuf;

free_range:
	vendor_heap_free_range(buf);
free_buf:
	kfree(buf);
	return ERR_PTR(err);
}

static const struct dma_heap_ops vendor_heap_ops = {
	.allocate = vendor_heap_allocate,
};

static int __init vendor_heap_init(void)
{
	struct dma_heap_export_info exp_info = { .ops = &vendor_heap_ops };
	struct dma_heap *heap;
	phys_addr_t start, bytes;
	int err;

	if (!region || !*region) {
		pr_err("region= names no reserve_mem= region\n");
		return -EINVAL;
	}
	if (!reserve_mem_find_by_name(region, &start, &bytes)) {
		pr_err("no reserve_mem= region %s\n", region);
		return -ENOENT;
	}
	base = start;
	size = bytes;

	vendor_pool = gen_pool_create(PAGE_SHIFT, NUMA_NO_NODE);
	if (!vendor_pool)
		return -ENOMEM;
	err = gen_pool_add(vendor_pool, start, bytes, NUMA_NO_NODE);
	if (err)
		goto destroy_pool;

	/* From here on the region is GCMA's for good */
	err = register_gcma_area(region, start, bytes);
	if (err) {
		pr_err("%s: GCMA refused the region: %d\n", region, err);
		goto destroy_pool;
	}
	exp_info.name = region;
	heap = dma_heap_add(&exp_info);
	if (IS_ERR(heap)) {
		/* The area stays, unused: GCMA areas are permanent */
		err = PTR_ERR(heap);
		pr_err("%s: no heap: %d\n", region, err);
		goto destroy_pool;
	}
	pr_info("%s: %llu KiB at %pa\n", region, size >> 10, &start);
	return 0;

destroy_pool:
	gen_pool_destroy(vendor_pool);
	return err;
}
module_init(vendor_heap_init);

MODULE_DESCRIPTION("A vendor dma-buf heap on GCMA, written against Android's GCMA interface");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
