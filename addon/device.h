// Device: one open file of /dev/gcma_test. Each command runs synchronously
// (name()) or on a libuv worker thread, returning a Promise (nameAsync());
// the hot ones (areaInfo, alloc, free) also synchronously writing their
// numbers to a Float64Array passed last (nameInto()), making no object.
// close() is idempotent; while commands are in flight it waits for them
// before closing the file, which frees what the file owns in the kernel.
#ifndef GCMA_ADDON_DEVICE_H
#define GCMA_ADDON_DEVICE_H

#include <napi.h>

#include <string>

namespace gcma {

class Device : public Napi::ObjectWrap<Device> {
 public:
  static Napi::Function Define(Napi::Env env);
  // new Device(path): opens it. The module's open() passes an already open
  // file as an External second argument.
  explicit Device(const Napi::CallbackInfo& info);
  ~Device() override;

  int fd() const { return fd_; }
  void BeginCommand() { ++in_flight_; }
  void EndCommand();

 private:
  static Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);
  Napi::Value GetPath(const Napi::CallbackInfo& info);
  // The checks every sync form makes (closed, arguments, then `check`), and
  // the ioctl; throws its errno.
  template <class Command>
  typename Command::Arg Issue(const Napi::CallbackInfo& info, void (*check)(const Napi::CallbackInfo&));
  template <class Command>
  Napi::Value Run(const Napi::CallbackInfo& info);
  template <class Command>
  Napi::Value RunAsync(const Napi::CallbackInfo& info);
  template <class Command>
  Napi::Value RunInto(const Napi::CallbackInfo& info);
  void CloseFile();

  std::string path_;
  int fd_ = -1;
  bool closed_ = false;  // by close(); fd_ stays open until in_flight_ is 0
  int in_flight_ = 0;
};

}  // namespace gcma

#endif
