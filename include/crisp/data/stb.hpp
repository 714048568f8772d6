// A private, translation-unit-local copy of stb_image and stb_image_write (Debian libstb-dev) for
// crisp's image IO: include it from any number of translation units without duplicate symbols.
#pragma once

// How: the stb implementations are compiled here with STB_IMAGE_STATIC / STB_IMAGE_WRITE_STATIC
// (internal linkage) inside namespace crisp_stb_private - global, not nested in crisp, so that
// stb's unqualified calls to abs, pow, ... never find crisp's tensor ops of those names - with
// every public stbi_* function renamed crisp_stbi_* (stb declares its API extern "C", and two
// extern "C" functions of one name clash even in different namespaces). Only JPEG, PNG, BMP and
// TGA are decoded (image_io.hpp parses PNM itself); no stdio, no HDR.
// Every macro stb reads or defines is saved with push_macro before and restored with pop_macro
// after (include guards included), so a user's own stb_image.h / stb_image_write.h - declarations
// or STB_IMAGE_IMPLEMENTATION, before or after this header, in the same translation unit or not -
// sees exactly the state it would have seen without crisp. Cost: each translation unit that decodes
// images carries its own copy of the decoder (unused functions are dropped by the compiler).
// The include path must contain stb_image.h (Debian: /usr/include/stb; cmake/FindStb.cmake).
#if defined(__has_include)
#if !__has_include(<stb_image.h>) || !__has_include(<stb_image_write.h>)
#error "crisp/data needs stb_image.h and stb_image_write.h on the include path (Debian: apt-get install libstb-dev, then -I/usr/include/stb or find_package(Stb) with crisp's cmake/FindStb.cmake)"
#endif
#endif

// Every system header stb includes, first and at global scope, so that stb's own includes inside
// the namespace below are no-ops.
#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#endif

_Pragma("push_macro(\"FAST_BITS\")") _Pragma("push_macro(\"INCLUDE_STB_IMAGE_WRITE_H\")")
_Pragma("push_macro(\"STBIDEF\")") _Pragma("push_macro(\"STBIWDEF\")")
_Pragma("push_macro(\"STBIW_ASSERT\")") _Pragma("push_macro(\"STBIW_EXTERN\")")
_Pragma("push_macro(\"STBIW_FREE\")") _Pragma("push_macro(\"STBIW_MALLOC\")")
_Pragma("push_macro(\"STBIW_MEMMOVE\")") _Pragma("push_macro(\"STBIW_REALLOC\")")
_Pragma("push_macro(\"STBIW_REALLOC_SIZED\")") _Pragma("push_macro(\"STBIW_UCHAR\")")
_Pragma("push_macro(\"STBIW_WINDOWS_UTF8\")") _Pragma("push_macro(\"STBI_ASSERT\")")
_Pragma("push_macro(\"STBI_EXTERN\")") _Pragma("push_macro(\"STBI_FAILURE_USERMSG\")")
_Pragma("push_macro(\"STBI_FREE\")") _Pragma("push_macro(\"STBI_HAS_LROTL\")")
_Pragma("push_macro(\"STBI_INCLUDE_STB_IMAGE_H\")") _Pragma("push_macro(\"STBI_MALLOC\")")
_Pragma("push_macro(\"STBI_MAX_DIMENSIONS\")") _Pragma("push_macro(\"STBI_NOTUSED\")")
_Pragma("push_macro(\"STBI_NO_BMP\")") _Pragma("push_macro(\"STBI_NO_FAILURE_STRINGS\")")
_Pragma("push_macro(\"STBI_NO_GIF\")") _Pragma("push_macro(\"STBI_NO_HDR\")")
_Pragma("push_macro(\"STBI_NO_JPEG\")") _Pragma("push_macro(\"STBI_NO_LINEAR\")")
_Pragma("push_macro(\"STBI_NO_PIC\")") _Pragma("push_macro(\"STBI_NO_PNG\")")
_Pragma("push_macro(\"STBI_NO_PNM\")") _Pragma("push_macro(\"STBI_NO_PSD\")")
_Pragma("push_macro(\"STBI_NO_SIMD\")") _Pragma("push_macro(\"STBI_NO_STDIO\")")
_Pragma("push_macro(\"STBI_NO_TGA\")") _Pragma("push_macro(\"STBI_NO_THREAD_LOCALS\")")
_Pragma("push_macro(\"STBI_NO_ZLIB\")") _Pragma("push_macro(\"STBI_ONLY_BMP\")")
_Pragma("push_macro(\"STBI_ONLY_GIF\")") _Pragma("push_macro(\"STBI_ONLY_HDR\")")
_Pragma("push_macro(\"STBI_ONLY_JPEG\")") _Pragma("push_macro(\"STBI_ONLY_PIC\")")
_Pragma("push_macro(\"STBI_ONLY_PNG\")") _Pragma("push_macro(\"STBI_ONLY_PNM\")")
_Pragma("push_macro(\"STBI_ONLY_PSD\")") _Pragma("push_macro(\"STBI_ONLY_TGA\")")
_Pragma("push_macro(\"STBI_REALLOC\")") _Pragma("push_macro(\"STBI_REALLOC_SIZED\")")
_Pragma("push_macro(\"STBI_SIMD_ALIGN\")") _Pragma("push_macro(\"STBI_SSE2\")")
_Pragma("push_macro(\"STBI_THREAD_LOCAL\")") _Pragma("push_macro(\"STBI_VERSION\")")
_Pragma("push_macro(\"STBI_WINDOWS_UTF8\")") _Pragma("push_macro(\"STBI_WRITE_NO_STDIO\")")
_Pragma("push_macro(\"STBI__BYTECAST\")") _Pragma("push_macro(\"STBI__CASE\")")
_Pragma("push_macro(\"STBI__COMBO\")") _Pragma("push_macro(\"STBI__HDR_BUFLEN\")")
_Pragma("push_macro(\"STBI__IDCT_1D\")") _Pragma("push_macro(\"STBI__MARKER_none\")")
_Pragma("push_macro(\"STBI__PNG_TYPE\")") _Pragma("push_macro(\"STBI__RESTART\")")
_Pragma("push_macro(\"STBI__X64_TARGET\")") _Pragma("push_macro(\"STBI__X86_TARGET\")")
_Pragma("push_macro(\"STBI__ZFAST_BITS\")") _Pragma("push_macro(\"STBI__ZFAST_MASK\")")
_Pragma("push_macro(\"STBI__ZNSYMS\")") _Pragma("push_macro(\"STB_IMAGE_IMPLEMENTATION\")")
_Pragma("push_macro(\"STB_IMAGE_STATIC\")")
_Pragma("push_macro(\"STB_IMAGE_WRITE_IMPLEMENTATION\")")
_Pragma("push_macro(\"STB_IMAGE_WRITE_STATIC\")")
_Pragma("push_macro(\"_CRT_NONSTDC_NO_DEPRECATE\")")
_Pragma("push_macro(\"_CRT_SECURE_NO_WARNINGS\")") _Pragma("push_macro(\"dct_bfly32o\")")
_Pragma("push_macro(\"dct_const\")") _Pragma("push_macro(\"dct_interleave16\")")
_Pragma("push_macro(\"dct_interleave8\")") _Pragma("push_macro(\"dct_long_mac\")")
_Pragma("push_macro(\"dct_long_mul\")") _Pragma("push_macro(\"dct_pass\")")
_Pragma("push_macro(\"dct_rot\")") _Pragma("push_macro(\"dct_trn16\")")
_Pragma("push_macro(\"dct_trn32\")") _Pragma("push_macro(\"dct_trn64\")")
_Pragma("push_macro(\"dct_trn8_16\")") _Pragma("push_macro(\"dct_trn8_32\")")
_Pragma("push_macro(\"dct_trn8_8\")") _Pragma("push_macro(\"dct_wadd\")")
_Pragma("push_macro(\"dct_widen\")") _Pragma("push_macro(\"dct_wsub\")")
_Pragma("push_macro(\"stbi__DNL\")") _Pragma("push_macro(\"stbi__EOI\")")
_Pragma("push_macro(\"stbi__SOF\")") _Pragma("push_macro(\"stbi__SOF_progressive\")")
_Pragma("push_macro(\"stbi__SOI\")") _Pragma("push_macro(\"stbi__SOS\")")
_Pragma("push_macro(\"stbi__de_iphone_flag\")") _Pragma("push_macro(\"stbi__div16\")")
_Pragma("push_macro(\"stbi__div4\")") _Pragma("push_macro(\"stbi__err\")")
_Pragma("push_macro(\"stbi__errpf\")") _Pragma("push_macro(\"stbi__errpuc\")")
_Pragma("push_macro(\"stbi__f2f\")") _Pragma("push_macro(\"stbi__float2fixed\")")
_Pragma("push_macro(\"stbi__float2int\")") _Pragma("push_macro(\"stbi__fsh\")")
_Pragma("push_macro(\"stbi__unpremultiply_on_load\")")
_Pragma("push_macro(\"stbi__vertically_flip_on_load\")") _Pragma("push_macro(\"stbi_inline\")")
_Pragma("push_macro(\"stbi_lrot\")") _Pragma("push_macro(\"stbiw__ZHASH\")")
_Pragma("push_macro(\"stbiw__max\")") _Pragma("push_macro(\"stbiw__sbcount\")")
_Pragma("push_macro(\"stbiw__sbfree\")") _Pragma("push_macro(\"stbiw__sbgrow\")")
_Pragma("push_macro(\"stbiw__sbm\")") _Pragma("push_macro(\"stbiw__sbmaybegrow\")")
_Pragma("push_macro(\"stbiw__sbn\")") _Pragma("push_macro(\"stbiw__sbneedgrow\")")
_Pragma("push_macro(\"stbiw__sbpush\")") _Pragma("push_macro(\"stbiw__sbraw\")")
_Pragma("push_macro(\"stbiw__wp32\")") _Pragma("push_macro(\"stbiw__wpng4\")")
_Pragma("push_macro(\"stbiw__wptag\")") _Pragma("push_macro(\"stbiw__zlib_add\")")
_Pragma("push_macro(\"stbiw__zlib_flush\")") _Pragma("push_macro(\"stbiw__zlib_huff\")")
_Pragma("push_macro(\"stbiw__zlib_huff1\")") _Pragma("push_macro(\"stbiw__zlib_huff2\")")
_Pragma("push_macro(\"stbiw__zlib_huff3\")") _Pragma("push_macro(\"stbiw__zlib_huff4\")")
_Pragma("push_macro(\"stbiw__zlib_huffa\")") _Pragma("push_macro(\"stbiw__zlib_huffb\")")
#undef FAST_BITS
#undef INCLUDE_STB_IMAGE_WRITE_H
#undef STBIDEF
#undef STBIWDEF
#undef STBIW_ASSERT
#undef STBIW_EXTERN
#undef STBIW_FREE
#undef STBIW_MALLOC
#undef STBIW_MEMMOVE
#undef STBIW_REALLOC
#undef STBIW_REALLOC_SIZED
#undef STBIW_UCHAR
#undef STBIW_WINDOWS_UTF8
#undef STBI_ASSERT
#undef STBI_EXTERN
#undef STBI_FAILURE_USERMSG
#undef STBI_FREE
#undef STBI_HAS_LROTL
#undef STBI_INCLUDE_STB_IMAGE_H
#undef STBI_MALLOC
#undef STBI_MAX_DIMENSIONS
#undef STBI_NOTUSED
#undef STBI_NO_BMP
#undef STBI_NO_FAILURE_STRINGS
#undef STBI_NO_GIF
#undef STBI_NO_HDR
#undef STBI_NO_JPEG
#undef STBI_NO_LINEAR
#undef STBI_NO_PIC
#undef STBI_NO_PNG
#undef STBI_NO_PNM
#undef STBI_NO_PSD
#undef STBI_NO_SIMD
#undef STBI_NO_STDIO
#undef STBI_NO_TGA
#undef STBI_NO_THREAD_LOCALS
#undef STBI_NO_ZLIB
#undef STBI_ONLY_BMP
#undef STBI_ONLY_GIF
#undef STBI_ONLY_HDR
#undef STBI_ONLY_JPEG
#undef STBI_ONLY_PIC
#undef STBI_ONLY_PNG
#undef STBI_ONLY_PNM
#undef STBI_ONLY_PSD
#undef STBI_ONLY_TGA
#undef STBI_REALLOC
#undef STBI_REALLOC_SIZED
#undef STBI_SIMD_ALIGN
#undef STBI_SSE2
#undef STBI_THREAD_LOCAL
#undef STBI_VERSION
#undef STBI_WINDOWS_UTF8
#undef STBI_WRITE_NO_STDIO
#undef STBI__BYTECAST
#undef STBI__CASE
#undef STBI__COMBO
#undef STBI__HDR_BUFLEN
#undef STBI__IDCT_1D
#undef STBI__MARKER_none
#undef STBI__PNG_TYPE
#undef STBI__RESTART
#undef STBI__X64_TARGET
#undef STBI__X86_TARGET
#undef STBI__ZFAST_BITS
#undef STBI__ZFAST_MASK
#undef STBI__ZNSYMS
#undef STB_IMAGE_IMPLEMENTATION
#undef STB_IMAGE_STATIC
#undef STB_IMAGE_WRITE_IMPLEMENTATION
#undef STB_IMAGE_WRITE_STATIC
#undef _CRT_NONSTDC_NO_DEPRECATE
#undef _CRT_SECURE_NO_WARNINGS
#undef dct_bfly32o
#undef dct_const
#undef dct_interleave16
#undef dct_interleave8
#undef dct_long_mac
#undef dct_long_mul
#undef dct_pass
#undef dct_rot
#undef dct_trn16
#undef dct_trn32
#undef dct_trn64
#undef dct_trn8_16
#undef dct_trn8_32
#undef dct_trn8_8
#undef dct_wadd
#undef dct_widen
#undef dct_wsub
#undef stbi__DNL
#undef stbi__EOI
#undef stbi__SOF
#undef stbi__SOF_progressive
#undef stbi__SOI
#undef stbi__SOS
#undef stbi__de_iphone_flag
#undef stbi__div16
#undef stbi__div4
#undef stbi__err
#undef stbi__errpf
#undef stbi__errpuc
#undef stbi__f2f
#undef stbi__float2fixed
#undef stbi__float2int
#undef stbi__fsh
#undef stbi__unpremultiply_on_load
#undef stbi__vertically_flip_on_load
#undef stbi_inline
#undef stbi_lrot
#undef stbiw__ZHASH
#undef stbiw__max
#undef stbiw__sbcount
#undef stbiw__sbfree
#undef stbiw__sbgrow
#undef stbiw__sbm
#undef stbiw__sbmaybegrow
#undef stbiw__sbn
#undef stbiw__sbneedgrow
#undef stbiw__sbpush
#undef stbiw__sbraw
#undef stbiw__wp32
#undef stbiw__wpng4
#undef stbiw__wptag
#undef stbiw__zlib_add
#undef stbiw__zlib_flush
#undef stbiw__zlib_huff
#undef stbiw__zlib_huff1
#undef stbiw__zlib_huff2
#undef stbiw__zlib_huff3
#undef stbiw__zlib_huff4
#undef stbiw__zlib_huffa
#undef stbiw__zlib_huffb

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_WRITE_NO_STDIO
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STBI_NO_LINEAR
// 2^16 per side (stb's default is 2^24): a corrupt header cannot ask for absurd allocations.
#define STBI_MAX_DIMENSIONS (1 << 16)
#define stbi__uint16 crisp_stbi__uint16
#define stbi__unpremultiply_on_load_thread crisp_stbi__unpremultiply_on_load_thread
#define stbi_convert_iphone_png_to_rgb crisp_stbi_convert_iphone_png_to_rgb
#define stbi_convert_iphone_png_to_rgb_thread crisp_stbi_convert_iphone_png_to_rgb_thread
#define stbi_convert_wchar_to_utf8 crisp_stbi_convert_wchar_to_utf8
#define stbi_failure_reason crisp_stbi_failure_reason
#define stbi_hdr_to_ldr_gamma crisp_stbi_hdr_to_ldr_gamma
#define stbi_hdr_to_ldr_scale crisp_stbi_hdr_to_ldr_scale
#define stbi_image_free crisp_stbi_image_free
#define stbi_info crisp_stbi_info
#define stbi_info_from_callbacks crisp_stbi_info_from_callbacks
#define stbi_info_from_file crisp_stbi_info_from_file
#define stbi_info_from_memory crisp_stbi_info_from_memory
#define stbi_is_16_bit crisp_stbi_is_16_bit
#define stbi_is_16_bit_from_callbacks crisp_stbi_is_16_bit_from_callbacks
#define stbi_is_16_bit_from_file crisp_stbi_is_16_bit_from_file
#define stbi_is_16_bit_from_memory crisp_stbi_is_16_bit_from_memory
#define stbi_is_hdr crisp_stbi_is_hdr
#define stbi_is_hdr_from_callbacks crisp_stbi_is_hdr_from_callbacks
#define stbi_is_hdr_from_file crisp_stbi_is_hdr_from_file
#define stbi_is_hdr_from_memory crisp_stbi_is_hdr_from_memory
#define stbi_ldr_to_hdr_gamma crisp_stbi_ldr_to_hdr_gamma
#define stbi_ldr_to_hdr_scale crisp_stbi_ldr_to_hdr_scale
#define stbi_load crisp_stbi_load
#define stbi_load_16 crisp_stbi_load_16
#define stbi_load_16_from_callbacks crisp_stbi_load_16_from_callbacks
#define stbi_load_16_from_memory crisp_stbi_load_16_from_memory
#define stbi_load_from_callbacks crisp_stbi_load_from_callbacks
#define stbi_load_from_file crisp_stbi_load_from_file
#define stbi_load_from_file_16 crisp_stbi_load_from_file_16
#define stbi_load_from_memory crisp_stbi_load_from_memory
#define stbi_load_gif_from_memory crisp_stbi_load_gif_from_memory
#define stbi_loadf crisp_stbi_loadf
#define stbi_loadf_from_callbacks crisp_stbi_loadf_from_callbacks
#define stbi_loadf_from_file crisp_stbi_loadf_from_file
#define stbi_loadf_from_memory crisp_stbi_loadf_from_memory
#define stbi_set_flip_vertically_on_load crisp_stbi_set_flip_vertically_on_load
#define stbi_set_flip_vertically_on_load_thread crisp_stbi_set_flip_vertically_on_load_thread
#define stbi_set_unpremultiply_on_load crisp_stbi_set_unpremultiply_on_load
#define stbi_set_unpremultiply_on_load_thread crisp_stbi_set_unpremultiply_on_load_thread
#define stbi_zlib_decode_buffer crisp_stbi_zlib_decode_buffer
#define stbi_zlib_decode_malloc crisp_stbi_zlib_decode_malloc
#define stbi_zlib_decode_malloc_guesssize crisp_stbi_zlib_decode_malloc_guesssize
#define stbi_zlib_decode_malloc_guesssize_headerflag crisp_stbi_zlib_decode_malloc_guesssize_headerflag
#define stbi_zlib_decode_noheader_buffer crisp_stbi_zlib_decode_noheader_buffer
#define stbi_zlib_decode_noheader_malloc crisp_stbi_zlib_decode_noheader_malloc
#define stbi_flip_vertically_on_write crisp_stbi_flip_vertically_on_write
#define stbi_write_bmp crisp_stbi_write_bmp
#define stbi_write_bmp_to_func crisp_stbi_write_bmp_to_func
#define stbi_write_hdr crisp_stbi_write_hdr
#define stbi_write_hdr_to_func crisp_stbi_write_hdr_to_func
#define stbi_write_jpg crisp_stbi_write_jpg
#define stbi_write_jpg_to_func crisp_stbi_write_jpg_to_func
#define stbi_write_png crisp_stbi_write_png
#define stbi_write_png_to_func crisp_stbi_write_png_to_func
#define stbi_write_png_to_mem crisp_stbi_write_png_to_mem
#define stbi_write_tga crisp_stbi_write_tga
#define stbi_write_tga_to_func crisp_stbi_write_tga_to_func
#define stbi_zlib_compress crisp_stbi_zlib_compress
#define stbiw_convert_wchar_to_utf8 crisp_stbiw_convert_wchar_to_utf8

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wtype-limits"
#endif
namespace crisp_stb_private {
#include <stb_image.h>
#include <stb_image_write.h>
}  // namespace crisp_stb_private
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#undef stbi__uint16
#undef stbi__unpremultiply_on_load_thread
#undef stbi_convert_iphone_png_to_rgb
#undef stbi_convert_iphone_png_to_rgb_thread
#undef stbi_convert_wchar_to_utf8
#undef stbi_failure_reason
#undef stbi_hdr_to_ldr_gamma
#undef stbi_hdr_to_ldr_scale
#undef stbi_image_free
#undef stbi_info
#undef stbi_info_from_callbacks
#undef stbi_info_from_file
#undef stbi_info_from_memory
#undef stbi_is_16_bit
#undef stbi_is_16_bit_from_callbacks
#undef stbi_is_16_bit_from_file
#undef stbi_is_16_bit_from_memory
#undef stbi_is_hdr
#undef stbi_is_hdr_from_callbacks
#undef stbi_is_hdr_from_file
#undef stbi_is_hdr_from_memory
#undef stbi_ldr_to_hdr_gamma
#undef stbi_ldr_to_hdr_scale
#undef stbi_load
#undef stbi_load_16
#undef stbi_load_16_from_callbacks
#undef stbi_load_16_from_memory
#undef stbi_load_from_callbacks
#undef stbi_load_from_file
#undef stbi_load_from_file_16
#undef stbi_load_from_memory
#undef stbi_load_gif_from_memory
#undef stbi_loadf
#undef stbi_loadf_from_callbacks
#undef stbi_loadf_from_file
#undef stbi_loadf_from_memory
#undef stbi_set_flip_vertically_on_load
#undef stbi_set_flip_vertically_on_load_thread
#undef stbi_set_unpremultiply_on_load
#undef stbi_set_unpremultiply_on_load_thread
#undef stbi_zlib_decode_buffer
#undef stbi_zlib_decode_malloc
#undef stbi_zlib_decode_malloc_guesssize
#undef stbi_zlib_decode_malloc_guesssize_headerflag
#undef stbi_zlib_decode_noheader_buffer
#undef stbi_zlib_decode_noheader_malloc
#undef stbi_flip_vertically_on_write
#undef stbi_write_bmp
#undef stbi_write_bmp_to_func
#undef stbi_write_hdr
#undef stbi_write_hdr_to_func
#undef stbi_write_jpg
#undef stbi_write_jpg_to_func
#undef stbi_write_png
#undef stbi_write_png_to_func
#undef stbi_write_png_to_mem
#undef stbi_write_tga
#undef stbi_write_tga_to_func
#undef stbi_zlib_compress
#undef stbiw_convert_wchar_to_utf8
_Pragma("pop_macro(\"FAST_BITS\")") _Pragma("pop_macro(\"INCLUDE_STB_IMAGE_WRITE_H\")")
_Pragma("pop_macro(\"STBIDEF\")") _Pragma("pop_macro(\"STBIWDEF\")")
_Pragma("pop_macro(\"STBIW_ASSERT\")") _Pragma("pop_macro(\"STBIW_EXTERN\")")
_Pragma("pop_macro(\"STBIW_FREE\")") _Pragma("pop_macro(\"STBIW_MALLOC\")")
_Pragma("pop_macro(\"STBIW_MEMMOVE\")") _Pragma("pop_macro(\"STBIW_REALLOC\")")
_Pragma("pop_macro(\"STBIW_REALLOC_SIZED\")") _Pragma("pop_macro(\"STBIW_UCHAR\")")
_Pragma("pop_macro(\"STBIW_WINDOWS_UTF8\")") _Pragma("pop_macro(\"STBI_ASSERT\")")
_Pragma("pop_macro(\"STBI_EXTERN\")") _Pragma("pop_macro(\"STBI_FAILURE_USERMSG\")")
_Pragma("pop_macro(\"STBI_FREE\")") _Pragma("pop_macro(\"STBI_HAS_LROTL\")")
_Pragma("pop_macro(\"STBI_INCLUDE_STB_IMAGE_H\")") _Pragma("pop_macro(\"STBI_MALLOC\")")
_Pragma("pop_macro(\"STBI_MAX_DIMENSIONS\")") _Pragma("pop_macro(\"STBI_NOTUSED\")")
_Pragma("pop_macro(\"STBI_NO_BMP\")") _Pragma("pop_macro(\"STBI_NO_FAILURE_STRINGS\")")
_Pragma("pop_macro(\"STBI_NO_GIF\")") _Pragma("pop_macro(\"STBI_NO_HDR\")")
_Pragma("pop_macro(\"STBI_NO_JPEG\")") _Pragma("pop_macro(\"STBI_NO_LINEAR\")")
_Pragma("pop_macro(\"STBI_NO_PIC\")") _Pragma("pop_macro(\"STBI_NO_PNG\")")
_Pragma("pop_macro(\"STBI_NO_PNM\")") _Pragma("pop_macro(\"STBI_NO_PSD\")")
_Pragma("pop_macro(\"STBI_NO_SIMD\")") _Pragma("pop_macro(\"STBI_NO_STDIO\")")
_Pragma("pop_macro(\"STBI_NO_TGA\")") _Pragma("pop_macro(\"STBI_NO_THREAD_LOCALS\")")
_Pragma("pop_macro(\"STBI_NO_ZLIB\")") _Pragma("pop_macro(\"STBI_ONLY_BMP\")")
_Pragma("pop_macro(\"STBI_ONLY_GIF\")") _Pragma("pop_macro(\"STBI_ONLY_HDR\")")
_Pragma("pop_macro(\"STBI_ONLY_JPEG\")") _Pragma("pop_macro(\"STBI_ONLY_PIC\")")
_Pragma("pop_macro(\"STBI_ONLY_PNG\")") _Pragma("pop_macro(\"STBI_ONLY_PNM\")")
_Pragma("pop_macro(\"STBI_ONLY_PSD\")") _Pragma("pop_macro(\"STBI_ONLY_TGA\")")
_Pragma("pop_macro(\"STBI_REALLOC\")") _Pragma("pop_macro(\"STBI_REALLOC_SIZED\")")
_Pragma("pop_macro(\"STBI_SIMD_ALIGN\")") _Pragma("pop_macro(\"STBI_SSE2\")")
_Pragma("pop_macro(\"STBI_THREAD_LOCAL\")") _Pragma("pop_macro(\"STBI_VERSION\")")
_Pragma("pop_macro(\"STBI_WINDOWS_UTF8\")") _Pragma("pop_macro(\"STBI_WRITE_NO_STDIO\")")
_Pragma("pop_macro(\"STBI__BYTECAST\")") _Pragma("pop_macro(\"STBI__CASE\")")
_Pragma("pop_macro(\"STBI__COMBO\")") _Pragma("pop_macro(\"STBI__HDR_BUFLEN\")")
_Pragma("pop_macro(\"STBI__IDCT_1D\")") _Pragma("pop_macro(\"STBI__MARKER_none\")")
_Pragma("pop_macro(\"STBI__PNG_TYPE\")") _Pragma("pop_macro(\"STBI__RESTART\")")
_Pragma("pop_macro(\"STBI__X64_TARGET\")") _Pragma("pop_macro(\"STBI__X86_TARGET\")")
_Pragma("pop_macro(\"STBI__ZFAST_BITS\")") _Pragma("pop_macro(\"STBI__ZFAST_MASK\")")
_Pragma("pop_macro(\"STBI__ZNSYMS\")") _Pragma("pop_macro(\"STB_IMAGE_IMPLEMENTATION\")")
_Pragma("pop_macro(\"STB_IMAGE_STATIC\")")
_Pragma("pop_macro(\"STB_IMAGE_WRITE_IMPLEMENTATION\")")
_Pragma("pop_macro(\"STB_IMAGE_WRITE_STATIC\")")
_Pragma("pop_macro(\"_CRT_NONSTDC_NO_DEPRECATE\")")
_Pragma("pop_macro(\"_CRT_SECURE_NO_WARNINGS\")") _Pragma("pop_macro(\"dct_bfly32o\")")
_Pragma("pop_macro(\"dct_const\")") _Pragma("pop_macro(\"dct_interleave16\")")
_Pragma("pop_macro(\"dct_interleave8\")") _Pragma("pop_macro(\"dct_long_mac\")")
_Pragma("pop_macro(\"dct_long_mul\")") _Pragma("pop_macro(\"dct_pass\")")
_Pragma("pop_macro(\"dct_rot\")") _Pragma("pop_macro(\"dct_trn16\")")
_Pragma("pop_macro(\"dct_trn32\")") _Pragma("pop_macro(\"dct_trn64\")")
_Pragma("pop_macro(\"dct_trn8_16\")") _Pragma("pop_macro(\"dct_trn8_32\")")
_Pragma("pop_macro(\"dct_trn8_8\")") _Pragma("pop_macro(\"dct_wadd\")")
_Pragma("pop_macro(\"dct_widen\")") _Pragma("pop_macro(\"dct_wsub\")")
_Pragma("pop_macro(\"stbi__DNL\")") _Pragma("pop_macro(\"stbi__EOI\")")
_Pragma("pop_macro(\"stbi__SOF\")") _Pragma("pop_macro(\"stbi__SOF_progressive\")")
_Pragma("pop_macro(\"stbi__SOI\")") _Pragma("pop_macro(\"stbi__SOS\")")
_Pragma("pop_macro(\"stbi__de_iphone_flag\")") _Pragma("pop_macro(\"stbi__div16\")")
_Pragma("pop_macro(\"stbi__div4\")") _Pragma("pop_macro(\"stbi__err\")")
_Pragma("pop_macro(\"stbi__errpf\")") _Pragma("pop_macro(\"stbi__errpuc\")")
_Pragma("pop_macro(\"stbi__f2f\")") _Pragma("pop_macro(\"stbi__float2fixed\")")
_Pragma("pop_macro(\"stbi__float2int\")") _Pragma("pop_macro(\"stbi__fsh\")")
_Pragma("pop_macro(\"stbi__unpremultiply_on_load\")")
_Pragma("pop_macro(\"stbi__vertically_flip_on_load\")") _Pragma("pop_macro(\"stbi_inline\")")
_Pragma("pop_macro(\"stbi_lrot\")") _Pragma("pop_macro(\"stbiw__ZHASH\")")
_Pragma("pop_macro(\"stbiw__max\")") _Pragma("pop_macro(\"stbiw__sbcount\")")
_Pragma("pop_macro(\"stbiw__sbfree\")") _Pragma("pop_macro(\"stbiw__sbgrow\")")
_Pragma("pop_macro(\"stbiw__sbm\")") _Pragma("pop_macro(\"stbiw__sbmaybegrow\")")
_Pragma("pop_macro(\"stbiw__sbn\")") _Pragma("pop_macro(\"stbiw__sbneedgrow\")")
_Pragma("pop_macro(\"stbiw__sbpush\")") _Pragma("pop_macro(\"stbiw__sbraw\")")
_Pragma("pop_macro(\"stbiw__wp32\")") _Pragma("pop_macro(\"stbiw__wpng4\")")
_Pragma("pop_macro(\"stbiw__wptag\")") _Pragma("pop_macro(\"stbiw__zlib_add\")")
_Pragma("pop_macro(\"stbiw__zlib_flush\")") _Pragma("pop_macro(\"stbiw__zlib_huff\")")
_Pragma("pop_macro(\"stbiw__zlib_huff1\")") _Pragma("pop_macro(\"stbiw__zlib_huff2\")")
_Pragma("pop_macro(\"stbiw__zlib_huff3\")") _Pragma("pop_macro(\"stbiw__zlib_huff4\")")
_Pragma("pop_macro(\"stbiw__zlib_huffa\")") _Pragma("pop_macro(\"stbiw__zlib_huffb\")")
