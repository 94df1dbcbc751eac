// JavaScript arguments as the ioctl structs' fields want them: TypeError
// for a wrong type (code ERR_INVALID_ARG_TYPE; ERR_INVALID_ARG_VALUE for a
// NUL in a string), RangeError (ERR_OUT_OF_RANGE) for a value the field or
// a JS number cannot hold exactly, as Node's own APIs throw them. Whether
// the kernel accepts the value is the kernel's to say.
#ifndef GCMA_ADDON_ARGS_H
#define GCMA_ADDON_ARGS_H

#include <napi.h>

#include <string>

namespace gcma {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

// Argument i as an integer in [0, max].
double IntegerArg(const Napi::CallbackInfo& info, size_t i, const char* name, double max);

// Argument i as a string without NUL characters.
std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name);

}  // namespace gcma

#endif
