// Reading ONNX TensorProtos (initialisers, and the .pb files of ONNX's
// node tests) into Tensors: float32 and int64 (int32 widened); any other
// element type is an error.
#ifndef NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_TENSOR_PROTO_H_
#define NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_TENSOR_PROTO_H_

#include <string>

#include "tensor.h"

namespace onnx {
class TensorProto;
}

namespace nomtag::onnx {

bool TensorFromProto(const ::onnx::TensorProto& proto, Tensor* out,
                     std::string* error);
// `bytes` is a serialised TensorProto; *name receives its name.
bool ParseTensor(const std::string& bytes, Tensor* out, std::string* name,
                 std::string* error);

}  // namespace nomtag::onnx

#endif  // NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_TENSOR_PROTO_H_
