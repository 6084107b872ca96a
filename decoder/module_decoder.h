// decode_module: bytes -> Module, checking everything the binary format says (structure,
// encoding, section order and sizes, counts, UTF-8, implementation limits). Types are the
// validator's business. The earliest error in the binary is the one returned.
#pragma once

#include <cstdint>
#include <span>

#include "decoder/decode_error.h"
#include "decoder/features.h"
#include "decoder/module.h"
#include "decoder/result.h"

namespace warden {

struct DecodeOptions {
  // Check every function body's encoding and block structure. load_module turns this off when
  // the validator reads the bodies anyway; a module it then finds wrong is decoded again in full,
  // so the reported error is the same.
  bool scan_function_bodies = true;
};

[[nodiscard]] Result<Module, DecodeError> decode_module(std::span<const uint8_t> bytes,
                                                        const Features& features = {},
                                                        DecodeOptions options = {});

}  // namespace warden
