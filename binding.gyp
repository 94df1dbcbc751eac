# The addon, built by node-gyp on `npm install` (see also CMakeLists.txt).
{
  "targets": [
    {
      "target_name": "gcma",
      "sources": [
        "addon/addon.cc",
        "addon/args.cc",
        "addon/commands.cc",
        "addon/device.cc",
        "addon/dma_buf.cc",
        "addon/errors.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "kernel/include/uapi"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra"]
    }
  ]
}
