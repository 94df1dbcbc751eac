#include "dma_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "args.h"
#include "errors.h"

namespace gcma {
namespace {

int FdArg(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<int>(IntegerArg(info, i, "fd", 2147483647.0));
}

// DMA_HEAP_IOCTL_ALLOC on the heap node at path: open, ioctl, close.
struct HeapAlloc {
  std::string path;
  dma_heap_allocation_data data{};
  int err = 0;
  const char* syscall = nullptr;

  static HeapAlloc Parse(const Napi::CallbackInfo& info) {
    HeapAlloc a;
    a.path = StringArg(info, 0, "path");
    a.data.len = static_cast<__u64>(IntegerArg(info, 1, "len", kMaxSafeInteger));
    a.data.fd_flags = static_cast<__u32>(IntegerArg(info, 2, "fdFlags", 4294967295.0));
    a.data.heap_flags = static_cast<__u64>(IntegerArg(info, 3, "heapFlags", kMaxSafeInteger));
    return a;
  }

  // Runs on any thread; sets err and syscall on failure.
  bool Run() {
    int heap = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (heap < 0) {
      err = errno;
      syscall = "open";
      return false;
    }
    int r = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data);
    int e = errno;
    close(heap);
    if (r < 0) {
      err = e;
      syscall = "ioctl";
      return false;
    }
    return true;
  }

  Napi::Error Error(Napi::Env env) const {
    bool opening = syscall[0] == 'o';
    return ErrnoError(env, err, syscall, opening ? path.c_str() : "DMA_HEAP_IOCTL_ALLOC");
  }
};

class HeapAllocWorker : public Napi::AsyncWorker {
 public:
  HeapAllocWorker(Napi::Env env, HeapAlloc a)
      : Napi::AsyncWorker(env, "DMA_HEAP_IOCTL_ALLOC"), a_(std::move(a)), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    if (!a_.Run()) SetError("DMA_HEAP_IOCTL_ALLOC");
  }

  void OnOK() override {
    Napi::HandleScope scope(Env());
    deferred_.Resolve(Napi::Number::New(Env(), a_.data.fd));
  }

  void OnError(const Napi::Error&) override {
    Napi::HandleScope scope(Env());
    deferred_.Reject(a_.Error(Env()).Value());
  }

 private:
  HeapAlloc a_;
  Napi::Promise::Deferred deferred_;
};

// alloc(path, len, fdFlags, heapFlags): the new dma-buf's fd.
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  HeapAlloc a = HeapAlloc::Parse(info);
  if (!a.Run()) throw a.Error(info.Env());
  return Napi::Number::New(info.Env(), a.data.fd);
}

Napi::Value AllocAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    auto* worker = new HeapAllocWorker(env, HeapAlloc::Parse(info));
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  } catch (const Napi::Error& e) {
    return RejectedPromise(env, e);
  }
}

// An mmap of a dma-buf, shared by the Buffer over it and the handle that
// unmaps it: unmapped by unmap() or when both are collected.
struct Mapping {
  void* addr;
  size_t len;
  Mapping(void* a, size_t l) : addr(a), len(l) {}
  // One owner of the mapping: a copy would unmap it when destroyed
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  void Unmap() {
    if (addr) munmap(addr, len);
    addr = nullptr;
  }
  ~Mapping() { Unmap(); }
};
using MappingRef = std::shared_ptr<Mapping>;

// map(fd, len, writable): { buffer, handle }.
Napi::Value Map(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto len = static_cast<size_t>(IntegerArg(info, 1, "len", kMaxSafeInteger));
  bool writable = info.Length() > 2 && info[2].ToBoolean().Value();
  void* addr = mmap(nullptr, len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) throw ErrnoError(env, errno, "mmap", "dma-buf");
  auto mapping = std::make_shared<Mapping>(addr, len);
  Napi::Object o = Napi::Object::New(env);
  o.Set("buffer", Napi::Buffer<uint8_t>::New(
                      env, static_cast<uint8_t*>(addr), len, [](Napi::Env, uint8_t*, MappingRef* ref) { delete ref; },
                      new MappingRef(mapping)));
  o.Set("handle", Napi::External<MappingRef>::New(env, new MappingRef(mapping),
                                                  [](Napi::Env, MappingRef* ref) { delete ref; }));
  return o;
}

// unmap(handle, buffer): munmap now; the Buffer is detached (length 0),
// so no JavaScript can reach the unmapped memory.
Napi::Value Unmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsExternal() || !info[1].IsBuffer()) {
    throw Napi::TypeError::New(env, "unmap(handle, buffer): the result of map()");
  }
  Napi::ArrayBuffer ab = info[1].As<Napi::Buffer<uint8_t>>().ArrayBuffer();
  if (!ab.IsDetached()) ab.Detach();
  (*info[0].As<Napi::External<MappingRef>>().Data())->Unmap();
  return env.Undefined();
}

// sync(fd, flags): DMA_BUF_IOCTL_SYNC.
Napi::Value Sync(const Napi::CallbackInfo& info) {
  dma_buf_sync s{};
  int fd = FdArg(info, 0);
  s.flags = static_cast<__u64>(IntegerArg(info, 1, "flags", kMaxSafeInteger));
  if (ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) < 0) throw ErrnoError(info.Env(), errno, "ioctl", "DMA_BUF_IOCTL_SYNC");
  return info.Env().Undefined();
}

// setName(fd, name): DMA_BUF_SET_NAME_B.
Napi::Value SetName(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  std::string name = StringArg(info, 1, "name");
  if (ioctl(fd, DMA_BUF_SET_NAME_B, name.c_str()) < 0) {
    throw ErrnoError(info.Env(), errno, "ioctl", "DMA_BUF_SET_NAME_B");
  }
  return info.Env().Undefined();
}

}  // namespace

Napi::Object DmaBufExports(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("alloc", Napi::Function::New<Alloc>(env, "alloc"));
  o.Set("allocAsync", Napi::Function::New<AllocAsync>(env, "allocAsync"));
  o.Set("map", Napi::Function::New<Map>(env, "map"));
  o.Set("unmap", Napi::Function::New<Unmap>(env, "unmap"));
  o.Set("sync", Napi::Function::New<Sync>(env, "sync"));
  o.Set("setName", Napi::Function::New<SetName>(env, "setName"));
  Napi::Object c = Napi::Object::New(env);
#define CONSTANT(n) c.Set(#n, Napi::Number::New(env, static_cast<double>(n)))
  CONSTANT(DMA_BUF_SYNC_READ);
  CONSTANT(DMA_BUF_SYNC_WRITE);
  CONSTANT(DMA_BUF_SYNC_RW);
  CONSTANT(DMA_BUF_SYNC_START);
  CONSTANT(DMA_BUF_SYNC_END);
  CONSTANT(DMA_BUF_NAME_LEN);
  CONSTANT(DMA_HEAP_VALID_FD_FLAGS);
  CONSTANT(O_RDONLY);
  CONSTANT(O_RDWR);
  CONSTANT(O_CLOEXEC);
#undef CONSTANT
  o.Set("constants", c);
  return o;
}

}  // namespace gcma
