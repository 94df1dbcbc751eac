// dma-buf heaps and dma-bufs through the kernel's standard uapi
// (linux/dma-heap.h, linux/dma-buf.h), for any heap of any kernel that has
// /dev/dma_heap: allocate (synchronously or on a worker), mmap as a Buffer,
// DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME. A dma-buf is a plain fd: JavaScript
// closes it (fs.closeSync).
#ifndef GCMA_ADDON_DMA_BUF_H
#define GCMA_ADDON_DMA_BUF_H

#include <napi.h>

namespace gcma {

// exports.dmaBuf: { alloc, allocAsync, map, unmap, sync, setName, constants }
Napi::Object DmaBufExports(Napi::Env env);

}  // namespace gcma

#endif
