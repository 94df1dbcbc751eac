// SPDX-License-Identifier: GPL-2.0
/*
 * The few fscrypt ioctls the VM suites need, so that they need no fscrypt
 * package: add a (fixed, test-only) v2 key to a filesystem, set a v2 policy
 * on an empty directory, remove the key again (which evicts the inodes
 * that used it).
 *
 *   fscrypt_key add MNT             prints the key identifier (hex)
 *   fscrypt_key policy DIR ID
 *   fscrypt_key remove MNT ID
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fscrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KEY_SIZE 64

static int open_or_die(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);

	if (fd < 0) {
		fprintf(stderr, "fscrypt_key: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static void ioctl_or_die(int fd, unsigned long cmd, void *arg, const char *what)
{
	if (ioctl(fd, cmd, arg)) {
		fprintf(stderr, "fscrypt_key: %s: %s\n", what, strerror(errno));
		exit(1);
	}
}

static void parse_id(const char *hex, __u8 id[FSCRYPT_KEY_IDENTIFIER_SIZE])
{
	int i;

	if (strlen(hex) != 2 * FSCRYPT_KEY_IDENTIFIER_SIZE) {
		fprintf(stderr, "fscrypt_key: bad key identifier %s\n", hex);
		exit(2);
	}
	for (i = 0; i < FSCRYPT_KEY_IDENTIFIER_SIZE; i++) {
		unsigned int byte;

		if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
			fprintf(stderr, "fscrypt_key: bad key identifier %s\n", hex);
			exit(2);
		}
		id[i] = byte;
	}
}

static int add_key(const char *mnt)
{
	struct fscrypt_add_key_arg *arg = calloc(1, sizeof(*arg) + KEY_SIZE);
	int fd = open_or_die(mnt), i;

	if (!arg)
		return 1;
	arg->key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
	arg->raw_size = KEY_SIZE;
	for (i = 0; i < KEY_SIZE; i++)
		arg->raw[i] = i * 7 + 1;
	ioctl_or_die(fd, FS_IOC_ADD_ENCRYPTION_KEY, arg, "FS_IOC_ADD_ENCRYPTION_KEY");
	for (i = 0; i < FSCRYPT_KEY_IDENTIFIER_SIZE; i++)
		printf("%02x", arg->key_spec.u.identifier[i]);
	printf("\n");
	free(arg);
	close(fd);
	return 0;
}

static int set_policy(const char *dir, const char *hex)
{
	struct fscrypt_policy_v2 policy = {
		.version = FSCRYPT_POLICY_V2,
		.contents_encryption_mode = FSCRYPT_MODE_AES_256_XTS,
		.filenames_encryption_mode = FSCRYPT_MODE_AES_256_CTS,
		.flags = FSCRYPT_POLICY_FLAGS_PAD_32,
	};
	int fd = open_or_die(dir);

	parse_id(hex, policy.master_key_identifier);
	ioctl_or_die(fd, FS_IOC_SET_ENCRYPTION_POLICY, &policy,
		     "FS_IOC_SET_ENCRYPTION_POLICY");
	close(fd);
	return 0;
}

static int remove_key(const char *mnt, const char *hex)
{
	struct fscrypt_remove_key_arg arg = {
		.key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER,
	};
	int fd = open_or_die(mnt);

	parse_id(hex, arg.key_spec.u.identifier);
	ioctl_or_die(fd, FS_IOC_REMOVE_ENCRYPTION_KEY, &arg,
		     "FS_IOC_REMOVE_ENCRYPTION_KEY");
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "add"))
		return add_key(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "policy"))
		return set_policy(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "remove"))
		return remove_key(argv[2], argv[3]);
	fprintf(stderr, "usage: fscrypt_key add MNT | policy DIR ID | remove MNT ID\n");
	return 2;
}
