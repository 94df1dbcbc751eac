// SPDX-License-Identifier: GPL-2.0
/*
 * gcma_test: user-space test interface to GCMA.
 *
 * For now this only reports whether the kernel it is loaded into has GCMA;
 * the misc device and its ioctls come with the uapi header.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>

static int __init gcma_test_init(void)
{
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
