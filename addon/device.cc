#include "device.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "addon.h"
#include "commands.h"
#include "errors.h"

namespace gcma {
namespace {

// One command on a worker thread. Holds the Device's JS object so that it
// stays alive (and its file open) until the command is done.
template <class Command>
class CommandWorker : public Napi::AsyncWorker {
 public:
  CommandWorker(Device* device, const Napi::Object& self, const typename Command::Arg& arg)
      : Napi::AsyncWorker(self.Env(), Command::kName),
        device_(device),
        self_(Napi::Persistent(self)),
        fd_(device->fd()),
        arg_(arg),
        deferred_(Napi::Promise::Deferred::New(self.Env())) {
    device_->BeginCommand();
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    if (ioctl(fd_, Command::kNumber, &arg_) < 0) {
      errno_ = errno;
      SetError(Command::kName);
    }
  }

  void OnOK() override {
    Napi::HandleScope scope(Env());
    device_->EndCommand();
    deferred_.Resolve(Command::Result(Env(), arg_));
  }

  void OnError(const Napi::Error&) override {
    Napi::HandleScope scope(Env());
    device_->EndCommand();
    deferred_.Reject(ErrnoError(Env(), errno_, "ioctl", Command::kName).Value());
  }

 private:
  Device* device_;
  Napi::ObjectReference self_;
  int fd_;
  typename Command::Arg arg_;
  int errno_ = 0;
  Napi::Promise::Deferred deferred_;
};

// Device.open(path): open(2) on a worker thread, resolving to a Device.
class OpenWorker : public Napi::AsyncWorker {
 public:
  OpenWorker(Napi::Env env, std::string path)
      : Napi::AsyncWorker(env, "gcma:open"), path_(std::move(path)), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    fd_ = open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) {
      errno_ = errno;
      SetError("open");
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::External<int> fd = Napi::External<int>::New(env, &fd_);
    try {
      deferred_.Resolve(env.GetInstanceData<AddonData>()->device.New({Napi::String::New(env, path_), fd}));
    } catch (const Napi::Error& e) {
      close(fd_);
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error&) override {
    Napi::HandleScope scope(Env());
    deferred_.Reject(ErrnoError(Env(), errno_, "open", path_.c_str()).Value());
  }

 private:
  std::string path_;
  int fd_ = -1;
  int errno_ = 0;
  Napi::Promise::Deferred deferred_;
};

std::string PathArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(info.Env(), "path must be a string");
  }
  return info[0].As<Napi::String>().Utf8Value();
}

}  // namespace

Napi::Function Device::Define(Napi::Env env) {
  return DefineClass(env, "Device",
                     {
                         StaticMethod<&Device::Open>("open"),
                         InstanceMethod<&Device::Close>("close"),
                         InstanceAccessor<&Device::GetClosed>("closed"),
                         InstanceAccessor<&Device::GetPath>("path"),
                         InstanceMethod<&Device::Run<VersionCommand>>("version"),
                         InstanceMethod<&Device::RunAsync<VersionCommand>>("versionAsync"),
                         InstanceMethod<&Device::Run<RegisterCommand>>("register"),
                         InstanceMethod<&Device::RunAsync<RegisterCommand>>("registerAsync"),
                         InstanceMethod<&Device::Run<AreaInfoCommand>>("areaInfo"),
                         InstanceMethod<&Device::RunAsync<AreaInfoCommand>>("areaInfoAsync"),
                         InstanceMethod<&Device::RunInto<AreaInfoCommand>>("areaInfoInto"),
                         InstanceMethod<&Device::Run<AllocCommand>>("alloc"),
                         InstanceMethod<&Device::RunAsync<AllocCommand>>("allocAsync"),
                         InstanceMethod<&Device::RunInto<AllocCommand>>("allocInto"),
                         InstanceMethod<&Device::Run<FreeCommand>>("free"),
                         InstanceMethod<&Device::RunAsync<FreeCommand>>("freeAsync"),
                         InstanceMethod<&Device::RunInto<FreeCommand>>("freeInto"),
                     });
}

Device::Device(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Device>(info) {
  path_ = PathArg(info);
  if (info.Length() > 1 && info[1].IsExternal()) {
    fd_ = *info[1].As<Napi::External<int>>().Data();
    return;
  }
  fd_ = open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0) {
    throw ErrnoError(info.Env(), errno, "open", path_.c_str());
  }
}

Device::~Device() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

Napi::Value Device::Open(const Napi::CallbackInfo& info) {
  auto* worker = new OpenWorker(info.Env(), PathArg(info));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

void Device::CloseFile() {
  int fd = fd_;
  fd_ = -1;
  // The kernel's release() cannot fail; close(2) errors (EINTR) would
  // still have closed the file on Linux.
  close(fd);
}

Napi::Value Device::Close(const Napi::CallbackInfo& info) {
  if (!closed_) {
    closed_ = true;
    if (in_flight_ == 0) {
      CloseFile();
    }
  }
  return info.Env().Undefined();
}

void Device::EndCommand() {
  if (--in_flight_ == 0 && closed_ && fd_ >= 0) {
    CloseFile();
  }
}

Napi::Value Device::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), closed_);
}

Napi::Value Device::GetPath(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), path_);
}

template <class Command>
typename Command::Arg Device::Issue(const Napi::CallbackInfo& info, void (*check)(const Napi::CallbackInfo&)) {
  if (closed_) {
    throw ClosedError(info.Env(), Command::kName);
  }
  typename Command::Arg arg = Command::Parse(info);
  check(info);
  if (ioctl(fd_, Command::kNumber, &arg) < 0) {
    throw ErrnoError(info.Env(), errno, "ioctl", Command::kName);
  }
  return arg;
}

template <class Command>
Napi::Value Device::Run(const Napi::CallbackInfo& info) {
  return Command::Result(info.Env(), Issue<Command>(info, [](const Napi::CallbackInfo&) {}));
}

// The Into form's last argument, checked before the ioctl: a bad one must
// not leave an allocation made behind.
template <class Command>
void CheckOut(const Napi::CallbackInfo& info) {
  Napi::Value last = info[info.Length() - 1];
  if (!last.IsTypedArray() || last.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      last.As<Napi::Float64Array>().ElementLength() < Command::kFields) {
    throw Napi::TypeError::New(info.Env(), "out must be a Float64Array of at least " + std::to_string(Command::kFields) + " elements");
  }
}

template <class Command>
Napi::Value Device::RunInto(const Napi::CallbackInfo& info) {
  typename Command::Arg arg = Issue<Command>(info, CheckOut<Command>);
  Command::Fill(arg, info[info.Length() - 1].As<Napi::Float64Array>().Data());
  return info.Env().Undefined();
}

template <class Command>
Napi::Value Device::RunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    if (closed_) {
      throw ClosedError(env, Command::kName);
    }
    auto* worker = new CommandWorker<Command>(this, info.This().As<Napi::Object>(), Command::Parse(info));
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  } catch (const Napi::Error& e) {
    // Bad arguments and a closed device reject
    return RejectedPromise(env, e);
  }
}

}  // namespace gcma
