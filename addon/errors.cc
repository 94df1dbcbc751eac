#include "errors.h"

#include <errno.h>
#include <string.h>

#include <string>

namespace gcma {

// Node's name for an errno (util.getSystemErrorName(), libuv's table: 95
// is ENOTSUP, the kernel's EOPNOTSUPP), and the POSIX name of a few that
// libuv leaves unnamed. A table, not strerrorname_np(): that is glibc's
// alone (2.32 on), and the addon builds with musl and bionic too. A
// pure Node-API addon has no uv.h.
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
    NAME(ENOSYS) NAME(ENOTEMPTY) NAME(ELOOP) NAME(EUNATCH) NAME(ENODATA) NAME(ENONET)
    NAME(EPROTO) NAME(EOVERFLOW) NAME(EILSEQ) NAME(ENOTSOCK) NAME(EDESTADDRREQ)
    NAME(EMSGSIZE) NAME(EPROTOTYPE) NAME(ENOPROTOOPT) NAME(EPROTONOSUPPORT)
    NAME(ESOCKTNOSUPPORT) NAME(ENOTSUP) NAME(EAFNOSUPPORT) NAME(EADDRINUSE)
    NAME(EADDRNOTAVAIL) NAME(ENETDOWN) NAME(ENETUNREACH) NAME(ECONNABORTED)
    NAME(ECONNRESET) NAME(ENOBUFS) NAME(EISCONN) NAME(ENOTCONN) NAME(ESHUTDOWN)
    NAME(ETIMEDOUT) NAME(ECONNREFUSED) NAME(EHOSTDOWN) NAME(EHOSTUNREACH)
    NAME(EALREADY) NAME(EREMOTEIO) NAME(ECANCELED)
    // Unnamed by libuv
    NAME(ENOEXEC) NAME(ECHILD) NAME(EDOM) NAME(EDEADLK) NAME(ENOLCK) NAME(ENOMSG)
    NAME(EIDRM) NAME(ETIME) NAME(EBADMSG) NAME(EDQUOT) NAME(ESTALE)
#undef NAME
    default:
      return "UNKNOWN";
  }
}

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
