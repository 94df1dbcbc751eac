// SPDX-License-Identifier: GPL-2.0
/*
 * gcma_test: user-space test interface to GCMA.
 *
 * For now it can register one GCMA area at load time, taken from the page
 * allocator with alloc_contig_pages():
 *
 *	insmod gcma_test.ko area_pages=32768
 *
 * registers an area named "gcma_test" of 128 MiB. GCMA areas are
 * permanent: the pages stay with GCMA when the module is unloaded, and a
 * later load finds the area registered already. The misc device and its
 * ioctls come with the uapi header.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gcma.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>

#define AREA_NAME	"gcma_test"

static unsigned long area_pages;
module_param(area_pages, ulong, 0444);
MODULE_PARM_DESC(area_pages, "Pages of a GCMA area to register at load (0: none)");

static int __init register_area(void)
{
	struct page *page;
	unsigned long pfn;
	int err;

	page = alloc_contig_pages(area_pages, GFP_KERNEL | __GFP_NOWARN,
				  numa_mem_id(), NULL);
	if (!page)
		return -ENOMEM;
	pfn = page_to_pfn(page);
	err = gcma_register_area(AREA_NAME, pfn, area_pages);
	if (err) {
		free_contig_range(pfn, area_pages);
		/* Registered by an earlier load: areas are permanent. */
		if (err == -EEXIST)
			return 0;
		return err;
	}
	pr_info("area %s: %lu pages at PFN %#lx\n", AREA_NAME, area_pages, pfn);
	return 0;
}

static int __init gcma_test_init(void)
{
	int err;

	if (area_pages) {
		err = register_area();
		if (err)
			return err;
	}
	pr_info("loaded (CONFIG_GCMA=%s)\n", IS_ENABLED(CONFIG_GCMA) ? "y" : "n");
	return 0;
}

static void __exit gcma_test_exit(void)
{
	pr_info("unloaded\n");
}

module_init(gcma_test_init);
module_exit(gcma_test_exit);

MODULE_DESCRIPTION("GCMA test interface");
MODULE_LICENSE("GPL");
