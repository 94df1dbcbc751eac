#include "errors.h"

#include <errno.h>
#include <string.h>

#include <string>

namespace gcma {
namespace {

// Node's name for an errno: libuv's, which differs from glibc's only for
// 95 (ENOTSUP, the kernel's EOPNOTSUPP). A pure Node-API addon has no uv.h.
const char* ErrnoName(int err) {
  switch (err) {
#define NAME(e) \
  case e:       \
    return #e;
    NAME(EPERM) NAME(ENOENT) NAME(ESRCH) NAME(EINTR) NAME(EIO) NAME(ENXIO) NAME(E2BIG)
    NAME(EBADF) NAME(EAGAIN) NAME(ENOMEM) NAME(EACCES) NAME(EFAULT) NAME(EBUSY)
    NAME(EEXIST) NAME(EXDEV) NAME(ENODEV) NAME(ENOTDIR) NAME(EISDIR) NAME(EINVAL)
    NAME(ENFILE) NAME(EMFILE) NAME(ENOTTY) NAME(ETXTBSY) NAME(EFBIG) NAME(ENOSPC)
    NAME(ESPIPE) NAME(EROFS) NAME(EMLINK) NAME(EPIPE) NAME(ERANGE) NAME(ENAMETOOLONG)
    NAME(ENOSYS) NAME(ENOTEMPTY) NAME(ELOOP) NAME(ENODATA) NAME(EOVERFLOW) NAME(EILSEQ)
    NAME(ENOTSUP) NAME(ETIMEDOUT) NAME(ECANCELED)
#undef NAME
    default: {
      const char* name = strerrorname_np(err);
      return name ? name : "UNKNOWN";
    }
  }
}

}  // namespace

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const char* what) {
  const char* code = ErrnoName(err);
  std::string message = std::string(code) + ": " + strerror(err) + ", " + syscall + " " + what;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.Set(strcmp(syscall, "open") == 0 ? "path" : "command", Napi::String::New(env, what));
  return error;
}

Napi::Promise RejectedPromise(Napi::Env env, const Napi::Error& e) {
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(e.Value());
  return deferred.Promise();
}

Napi::Error ClosedError(Napi::Env env, const char* what) {
  Napi::Error error = Napi::Error::New(env, std::string("the device is closed: cannot ") + what);
  error.Set("code", Napi::String::New(env, "ERR_GCMA_DEVICE_CLOSED"));
  return error;
}

}  // namespace gcma
