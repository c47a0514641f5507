// The op profiler behind `glassbox bench --profile`: what it charges to which op.
#include <gtest/gtest.h>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/profiler.h"
#include "engine/ops/ops.h"

using namespace glassbox;

TEST(Profiler, ChargesEachRecordedOpsForwardAndBackward) {
  Tensor x = Tensor::ones({64, 64});
  x.set_requires_grad(true);
  profiler::clear();
  profiler::start();
  Tensor y = ops::sum(ops::mul(ops::sigmoid(x), 3.0));
  y.backward();
  {
    NoGradGuard no_grad;  // work outside the graph is nobody's forward
    Tensor z = ops::exp(x);
  }
  profiler::stop();
  Tensor untracked = ops::exp(x);  // after stop: not collected
  profiler::Profile p = profiler::collected();
  for (const char* op : {"sigmoid", "mul_scalar", "sum"}) {
    ASSERT_TRUE(p.count(op)) << op;
    EXPECT_EQ(p[op].forward_calls, 1) << op;
    EXPECT_EQ(p[op].backward_calls, 1) << op;
    EXPECT_GE(p[op].forward_ms, 0.0);
    EXPECT_GE(p[op].backward_ms, 0.0);
  }
  EXPECT_FALSE(p.count("exp"));
  const std::string table = profiler::table(p, 1, 10.0);
  EXPECT_NE(table.find("sigmoid"), std::string::npos) << table;
  EXPECT_NE(table.find("rest (optimiser, ...)"), std::string::npos) << table;
  profiler::clear();
  EXPECT_TRUE(profiler::collected().empty());
}
