// Control-vector GGUF files: llama.cpp's layout (general.architecture "controlvector",
// controlvector.model_hint, controlvector.layer_count, direction.N F32 1-D with N >= 1), exact
// round trips, the cvector-generator shift, and clear errors for bad files.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "core/error.h"
#include "io/gguf.h"
#include "methods/steer/cvec_file.h"

using namespace rs;
using namespace rs::steer;

namespace {

std::string tmp(const std::string& name) {
  return "/tmp/rs_steer_cvec_" + std::to_string(::getpid()) + "_" + name;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const rs::Error& e) {
    return e.what();
  }
  return "";
}

ControlVectors sample(int64_t D = 6) {
  ControlVectors cv;
  cv.model_hint = "llama";
  cv.n_embd = D;
  at::manual_seed(3);
  cv.layers[1] = at::randn({D});
  cv.layers[4] = at::randn({D}) * 1e-30;  // tiny values survive bit for bit
  cv.info["method"] = "pca-c";
  return cv;
}

}  // namespace

TEST(SteerCvecFile, WritesLlamaCppLayout) {
  const std::string p = tmp("layout.gguf");
  write_control_vectors(p, sample());
  auto f = gguf::File::open(p);
  EXPECT_EQ(f->get_string("general.architecture"), "controlvector");
  EXPECT_EQ(f->get_string("controlvector.model_hint"), "llama");
  const gguf::Value* lc = f->find("controlvector.layer_count");
  ASSERT_NE(lc, nullptr);
  EXPECT_EQ(lc->type, gguf::ValueType::INT32);  // as cvector-generator writes it
  EXPECT_EQ(lc->as_int(), 2);
  ASSERT_EQ(f->tensors().size(), 2u);
  for (const auto& t : f->tensors()) {
    EXPECT_EQ(t.type, GgmlType::F32);
    ASSERT_EQ(t.ne.size(), 1u);
    EXPECT_EQ(t.ne[0], 6);
  }
  EXPECT_NE(f->find_tensor("direction.1"), nullptr);
  EXPECT_NE(f->find_tensor("direction.4"), nullptr);
  std::remove(p.c_str());
}

TEST(SteerCvecFile, RoundTripsExactly) {
  const std::string p = tmp("roundtrip.gguf");
  const ControlVectors a = sample();
  write_control_vectors(p, a);
  const ControlVectors b = read_control_vectors(p);
  EXPECT_EQ(b.model_hint, a.model_hint);
  EXPECT_EQ(b.n_embd, a.n_embd);
  ASSERT_EQ(b.layers.size(), a.layers.size());
  for (const auto& [l, v] : a.layers) EXPECT_TRUE(b.layers.at(l).equal(v)) << "layer " << l;
  EXPECT_EQ(b.info.at("method"), "pca-c");
  std::remove(p.c_str());
}

TEST(SteerCvecFile, CvectorGeneratorShiftMovesEveryLayerDownOne) {
  const std::string p = tmp("shift.gguf");
  const ControlVectors a = sample();
  write_control_vectors(p, a);
  ReadOptions ro;
  ro.from_llama_cpp_cvector = true;
  const ControlVectors b = read_control_vectors(p, ro);
  ASSERT_EQ(b.layers.size(), 2u);
  EXPECT_TRUE(b.layers.at(0).equal(a.layers.at(1)));  // direction.1 was measured at block 0
  EXPECT_TRUE(b.layers.at(3).equal(a.layers.at(4)));
  std::remove(p.c_str());
}

TEST(SteerCvecFile, LayerZeroCannotBeStored) {
  ControlVectors cv = sample();
  cv.layers[0] = at::zeros({6});
  EXPECT_NE(error_of([&] { write_control_vectors(tmp("zero.gguf"), cv); }).find("direction.0"), std::string::npos);
}

TEST(SteerCvecFile, BadFilesGiveClearMessages) {
  // No direction tensors at all.
  {
    const std::string p = tmp("nodir.gguf");
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::of_string("controlvector"));
    const float x[3] = {1, 2, 3};
    w.add_tensor_f32("something.else", {3}, x);
    w.write(p);
    EXPECT_NE(error_of([&] { read_control_vectors(p); }).find("no direction.N tensors"), std::string::npos);
    std::remove(p.c_str());
  }
  // direction.0, 2-D, different lengths, a model file.
  auto one = [&](const std::string& name, std::vector<int64_t> ne, const std::string& expect,
                 const std::string& arch = "controlvector") {
    const std::string p = tmp("bad.gguf");
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::of_string(arch));
    std::vector<float> x(12, 1.0f);
    w.add_tensor_f32("direction.2", {6}, x.data());
    w.add_tensor_f32(name, ne, x.data());
    w.write(p);
    const std::string e = error_of([&] { read_control_vectors(p); });
    EXPECT_NE(e.find(expect), std::string::npos) << e;
    EXPECT_NE(e.find(p), std::string::npos) << e;
    std::remove(p.c_str());
  };
  one("direction.0", {6}, "direction.0 is invalid");
  one("direction.x", {6}, "integer N");
  one("direction.3", {6, 2}, "1-D");
  one("direction.3", {4}, "earlier directions have 6");
  one("direction.3", {6}, "not 'controlvector'", "llama");
}

TEST(SteerCvecFile, ModelMismatchIsRefused) {
  const ControlVectors cv = sample(6);
  EXPECT_NE(error_of([&] { check_against_model(cv, 8, 30, "v.gguf"); }).find("n_embd 6 but the model's d_model is 8"),
            std::string::npos);
  EXPECT_NE(error_of([&] { check_against_model(cv, 6, 3, "v.gguf"); }).find("layer 4 but the model has 3 layers"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { check_against_model(cv, 6, 5, "v.gguf"); }), "");
}
