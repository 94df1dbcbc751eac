// Errors the Node way: code ('EINVAL'), errno (negative, as in Node's own
// SystemErrors), syscall ('ioctl' / 'open'), plus the ioctl command name or
// the device path.
#ifndef GCMA_ADDON_ERRORS_H
#define GCMA_ADDON_ERRORS_H

#include <napi.h>

namespace gcma {

// The code of an errno's error: Node's name for it ('ENOMEM'), 'UNKNOWN'
// for one it has no name for.
const char* ErrnoName(int err);

// An error for a failed system call; `what` is the command or the path.
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const char* what);

// Using a closed device: no system call was made.
Napi::Error ClosedError(Napi::Env env, const char* what);

// A Promise rejected with `e`: what an async method returns for bad
// arguments, as a Promise API should, rather than throwing.
Napi::Promise RejectedPromise(Napi::Env env, const Napi::Error& e);

}  // namespace gcma

#endif
