// Prob-PSENN: the Gaussian pieces (log-density, reparameterised sampling) with gradient
// checks, the paper's loss and outputs against hand computations, learning, prototype
// fitting, checkpoints, exact resume and exports, on tiny synthetic data.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numbers>
#include <random>

#include "engine/autograd/grad_mode.h"
#include "engine/io/json_file.h"
#include "engine/io/png.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "models/common/gaussian.h"
#include "models/prob_psenn/prob_psenn.h"
#include "models/prob_psenn/prob_psenn_task.h"
#include "tests/support/checkpoint_round_trip.h"
#include "tests/support/gradcheck.h"
#include "tests/support/module_compare.h"
#include "tests/support/resume_check.h"
#include "tests/support/synthetic_images.h"
#include "tests/support/temp_dir.h"
#include "trainers/trainer.h"

using namespace glassbox;
using namespace glassbox::models;
using glassbox::testing::grad_input;
using glassbox::testing::grad_input_transposed;
using glassbox::testing::gradcheck;
namespace fs = std::filesystem;
using glassbox::testing::synthetic_images;

namespace {

ProbPsennOptions small_options(int64_t classes, bool probabilistic = true, bool full = true) {
  ProbPsennOptions o;
  o.num_classes = classes;
  o.base_channels = 4;
  o.bottleneck_channels = 16;
  o.latent_dim = 4;
  o.probabilistic = probabilistic;
  o.full_covariance = full;
  o.batch_norm_momentum = 0.1;
  return o;
}

std::vector<int64_t> first_n(int64_t n) {
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[size_t(i)] = i;
  return ids;
}

Tensor f64(const std::vector<double>& v, const Shape& shape) { return Tensor::from_vector(v, shape, {DType::f64}); }

}  // namespace

// ---- Gaussian pieces -----------------------------------------------------------------------

TEST(ProbPsennGaussian, NegativeLogDensityHandValue) {
  // L = [[2, 0], [1, 3]], x - mu = (1, 2): L u = x - mu gives u = (0.5, 0.5), |u|^2 = 0.5,
  // log det L = log 6, so -log q = 0.25 + log 6 + log(2 pi).
  Tensor l = f64({2, 0, 1, 3}, {1, 2, 2});
  Tensor x = f64({1.5, 2.0}, {1, 2}), mu = f64({0.5, 0.0}, {1, 2});
  const double expected = 0.25 + std::log(6.0) + std::log(2 * std::numbers::pi);
  EXPECT_NEAR(tril_gaussian_negative_log_density(x, mu, l).item(), expected, 1e-12);
  // The diagonal form equals the full one with a diagonal L.
  Tensor ld = f64({2, 0, 0, 3}, {1, 2, 2});
  EXPECT_NEAR(diag_gaussian_negative_log_density(x, mu, f64({2, 3}, {1, 2})).item(),
              tril_gaussian_negative_log_density(x, mu, ld).item(), 1e-12);
  EXPECT_THROW(tril_gaussian_negative_log_density(x, mu, f64({1, 0, 0, 1}, {2, 2})), std::invalid_argument);
}

TEST(ProbPsennGaussian, FillScaleTrilIsACholeskyFactor) {
  Tensor raw = f64({0.3, 9.0, -0.4, 1.2}, {2, 2});
  std::vector<double> l = fill_scale_tril(raw).to_vector<double>();
  auto softplus = [](double v) { return std::log1p(std::exp(v)); };
  EXPECT_NEAR(l[0], softplus(0.3) + 1e-5, 1e-12);
  EXPECT_EQ(l[1], 0.0);  // above the diagonal: ignored
  EXPECT_NEAR(l[2], -0.4, 1e-12);
  EXPECT_NEAR(l[3], softplus(1.2) + 1e-5, 1e-12);
  for (double s : {1e-3, 0.5, 2.0, 40.0})
    EXPECT_NEAR(positive_scale(f64({inverse_positive_scale(s)}, {1})).item(), s, 1e-9 * (1 + s));
}

TEST(ProbPsennGaussian, LogDensityGradcheck) {
  // Gradients through the triangular solve, the log-determinant and the softplus diagonal,
  // with respect to x, mu and the raw scale parameters (contiguous and transposed inputs).
  auto f = [](const std::vector<Tensor>& in) {
    return tril_gaussian_negative_log_density(in[0], in[1], fill_scale_tril(in[2]));
  };
  EXPECT_TRUE(gradcheck(f, {grad_input({3, 4}, 1), grad_input({3, 4}, 2), grad_input({3, 4, 4}, 3)}));
  EXPECT_TRUE(
      gradcheck(f, {grad_input_transposed({2, 3}, 4), grad_input_transposed({2, 3}, 5), grad_input({2, 3, 3}, 6)}));
  auto g = [](const std::vector<Tensor>& in) {
    return diag_gaussian_negative_log_density(in[0], in[1], positive_scale(in[2]));
  };
  EXPECT_TRUE(gradcheck(g, {grad_input({3, 4}, 7), grad_input({3, 4}, 8), grad_input_transposed({3, 4}, 9)}));
}

TEST(ProbPsennGaussian, ReparameterisedSamplingGradcheck) {
  Tensor eps = glassbox::testing::random_tensor({5, 2, 3}, 10);
  auto full = [&](const std::vector<Tensor>& in) { return sample_tril_gaussian(in[0], fill_scale_tril(in[1]), eps); };
  EXPECT_TRUE(gradcheck(full, {grad_input({2, 3}, 11), grad_input({2, 3, 3}, 12)}));
  auto diag = [&](const std::vector<Tensor>& in) { return sample_diag_gaussian(in[0], positive_scale(in[1]), eps); };
  EXPECT_TRUE(gradcheck(diag, {grad_input_transposed({2, 3}, 13), grad_input({2, 3}, 14)}));
}

TEST(ProbPsennGaussian, SamplesHaveTheModelledMeanAndCovariance) {
  Generator gen(20);
  ProbPsennOptions o = small_options(2);
  ProbPsenn net(o, gen);
  NoGradGuard ng;
  const int64_t n = 20000;
  Tensor p = net.sample_prototypes(n, &gen).to(DType::f64);  // [n, 2, 4]
  ASSERT_EQ(p.shape(), (Shape{n, 2, 4}));
  Tensor l = net.prototype_scales().to(DType::f64);
  Tensor sigma = ops::matmul(l, l.mT());  // [2, 4, 4]
  Tensor mean = ops::mean(p, {0});
  Tensor c = p - mean;
  Tensor cov = ops::matmul(c.permute({1, 2, 0}), c.permute({1, 0, 2})) / double(n);
  std::vector<double> m = mean.to_vector<double>(), mu = net.prototype_means().to_vector<double>();
  std::vector<double> cv = cov.to_vector<double>(), sv = sigma.to_vector<double>();
  for (size_t i = 0; i < m.size(); ++i) EXPECT_NEAR(m[i], mu[i], 0.05);
  for (size_t i = 0; i < cv.size(); ++i) EXPECT_NEAR(cv[i], sv[i], 0.06 * (1 + std::abs(sv[i])));
  // Point prototypes (and samples = 0) give the modes.
  EXPECT_TRUE(ops::eq(net.sample_prototypes(0).squeeze(0), net.prototype_means()).to(DType::f32).sum().item() == 8);
}

// ---- The model -----------------------------------------------------------------------------

TEST(ProbPsenn, ShapesAndParametersFollowThePaper) {
  Generator gen(1);
  ProbPsenn net(ProbPsennOptions{}, gen);
  // Encoder 333,520 + decoder 323,201 + 10 means of 40 + 10 raw 40x40 scales + W 10x10.
  EXPECT_EQ(net.num_parameters(), 673221);
  net.eval();
  NoGradGuard ng;
  ProbPsennOutput out = net.forward(ops::rand({2, 1, 28, 28}), 3);
  EXPECT_EQ(out.input.shape(), (Shape{2, 1, 32, 32}));
  EXPECT_EQ(out.latent.shape(), (Shape{2, 40}));
  EXPECT_EQ(out.latent_logvar.shape(), (Shape{2, 40}));
  EXPECT_EQ(out.distances.shape(), (Shape{3, 2, 10}));
  EXPECT_EQ(out.logits.shape(), (Shape{3, 2, 10}));
  EXPECT_EQ(out.reconstruction.shape(), (Shape{2, 1, 32, 32}));
  EXPECT_LE(ops::amax(ops::abs(out.reconstruction)).item(), 1.0);
  // Preprocessing maps [0, 1] to [-1, 1] and keeps a constant image constant under resizing.
  EXPECT_NEAR(ops::amax(ops::abs(ProbPsenn::preprocess(Tensor::full({1, 1, 28, 28}, 0.75)) - 0.5)).item(), 0.0, 1e-6);
  ProbPsennOptions bad;
  bad.num_classes = 1;
  EXPECT_THROW(ProbPsenn(bad, gen), std::invalid_argument);
  EXPECT_THROW(net.encode(ops::rand({1, 1, 28, 28})), std::invalid_argument);
}

TEST(ProbPsenn, PointPrototypesGiveTheGaussianClassifier) {
  // With W = -0.5 I, logit_c = -1/2 |z - p_c|^2 (deterministic PSENN, eval mode: z = mu).
  Generator gen(2);
  ProbPsenn net(small_options(3, false), gen);
  net.eval();
  NoGradGuard ng;
  ProbPsennOutput out = net.forward(ops::rand({2, 1, 28, 28}), 5, false);
  ASSERT_EQ(out.logits.shape(), (Shape{1, 2, 3}));  // no sampling: one prototype set
  std::vector<float> z = out.latent.to_vector<float>(), p = net.prototype_means().to_vector<float>();
  std::vector<float> logits = out.logits.to_vector<float>();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t c = 0; c < 3; ++c) {
      double d = 0;
      for (int64_t i = 0; i < 4; ++i) d += std::pow(z[size_t(b * 4 + i)] - p[size_t(c * 4 + i)], 2);
      EXPECT_NEAR(logits[size_t(b * 3 + c)], -0.5 * d, 1e-4 * (1 + d));
    }
  // Sampling the latent from the VAE posterior gives one draw per prediction even here.
  Generator draws(3);
  ProbPsennOutput sampled = net.forward(ops::rand({2, 1, 28, 28}), 5, false, &draws, true);
  ASSERT_EQ(sampled.distances.shape(), (Shape{5, 2, 3}));
  EXPECT_GT(ops::amax(ops::abs(sampled.distances.select(0, 0) - sampled.distances.select(0, 1))).item(), 0.0);
}

TEST(ProbPsenn, LossTermsMatchThePaper) {
  Generator gen(3);
  ProbPsenn net(small_options(3), gen);
  Tensor x = ops::rand({4, 1, 28, 28});
  Tensor y = Tensor::from_vector(std::vector<int64_t>{0, 1, 2, 1}, {4});
  ProbPsennOutput out = net.forward(x, 5);
  ProbPsennLossWeights w;
  ProbPsennLoss l = net.loss(out, y, w);
  NoGradGuard ng;
  // NLL: -(1/(B S)) sum_b sum_s log softmax(D W)_{y_b}.
  std::vector<double> ls = ops::log_softmax(out.logits, -1).to_vector<double>();
  std::vector<int64_t> yv = y.to_vector<int64_t>();
  double nll = 0;
  for (int64_t s = 0; s < 5; ++s)
    for (int64_t b = 0; b < 4; ++b) nll -= ls[size_t((s * 4 + b) * 3 + yv[size_t(b)])] / 20.0;
  EXPECT_NEAR(l.nll.item(), nll, 1e-5);
  // R2: the mean of clip(-log q_y(z), -1, 1e4), each from the full-Gaussian formula.
  Tensor scales = net.prototype_scales();
  double r2 = 0;
  for (int64_t b = 0; b < 4; ++b) {
    Tensor zb = out.latent.narrow(0, b, 1).to(DType::f64);
    Tensor mb = net.prototype_means().narrow(0, yv[size_t(b)], 1).to(DType::f64);
    Tensor lb = scales.narrow(0, yv[size_t(b)], 1).to(DType::f64);
    r2 += std::clamp(tril_gaussian_negative_log_density(zb, mb, lb).item(), -1.0, 1e4) / 4.0;
  }
  EXPECT_NEAR(l.r2.item(), r2, 1e-4 * (1 + std::abs(r2)));
  const double rec = ops::mean(ops::square(out.reconstruction - out.input)).item();
  EXPECT_NEAR(l.reconstruction.item(), rec, 1e-6);
  EXPECT_GT(l.kl.item(), 0.0);
  EXPECT_NEAR(l.total.item(), nll + 10 * rec + 0.05 * r2 + 0.05 * l.kl.item(), 1e-4 * (1 + l.total.item()));
  ProbPsennLoss ae = net.reconstruction_loss(out, 0.05);
  EXPECT_NEAR(ae.total.item(), rec + 0.05 * l.kl.item(), 1e-5 * (1 + ae.total.item()));
}

TEST(ProbPsenn, FrozenClassWeightsGetNoGradient) {
  Generator gen(4);
  ProbPsennOptions o = small_options(3);
  o.train_class_weights = false;
  ProbPsenn net(o, gen);
  Tensor y = Tensor::from_vector(std::vector<int64_t>{0, 1}, {2});
  net.loss(net.forward(ops::rand({2, 1, 28, 28}), 2), y, {}).total.backward();
  EXPECT_FALSE(net.class_weights().grad().defined());
  EXPECT_TRUE(net.prototype_means().grad().defined());
}

TEST(ProbPsenn, FitPrototypesRecoversClassMeansAndCovariances) {
  // Latents of class c drawn from N(m_c, A A^T): the fit finds m_c and the Cholesky factor.
  Generator gen(5);
  ProbPsenn full(small_options(2), gen), diag(small_options(2, true, false), gen), point(small_options(2, false), gen);
  std::mt19937 rng(6);
  std::normal_distribution<double> n01(0.0, 1.0);
  const double a[2][4][4] = {{{1, 0, 0, 0}, {0.5, 0.8, 0, 0}, {0, 0.3, 0.6, 0}, {0.2, 0, 0, 0.4}},
                             {{0.7, 0, 0, 0}, {0, 1.2, 0, 0}, {-0.4, 0, 0.9, 0}, {0, 0, 0.1, 0.5}}};
  const int64_t per_class = 4000;
  std::vector<double> z;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < 2 * per_class; ++i) {
    const int c = int(i % 2);
    double e[4];
    for (double& v : e) v = n01(rng);
    for (int r = 0; r < 4; ++r) {
      double s = 3.0 * (c == 0 ? 1 : -1);
      for (int k = 0; k < 4; ++k) s += a[c][r][k] * e[k];
      z.push_back(s);
    }
    y.push_back(c);
  }
  Tensor latents = f64(z, {2 * per_class, 4}), labels = Tensor::from_vector(y, {2 * per_class});
  full.fit_prototypes(latents, labels);
  diag.fit_prototypes(latents, labels);
  point.fit_prototypes(latents, labels);
  std::vector<double> l = full.prototype_scales().to_vector<double>(), m = full.prototype_means().to_vector<double>();
  std::vector<double> sd = diag.prototype_scales().to_vector<double>();
  for (int c = 0; c < 2; ++c)
    for (int r = 0; r < 4; ++r) {
      EXPECT_NEAR(m[size_t(c * 4 + r)], 3.0 * (c == 0 ? 1 : -1), 0.06);
      double var = 0;
      for (int k = 0; k < 4; ++k) {
        EXPECT_NEAR(l[size_t(c * 16 + r * 4 + k)], a[c][r][k], 0.06) << "class " << c << " L[" << r << "][" << k << "]";
        var += a[c][r][k] * a[c][r][k];
      }
      EXPECT_NEAR(sd[size_t(c * 4 + r)], std::sqrt(var), 0.06);
    }
  EXPECT_TRUE(ops::eq(point.prototype_means(), full.prototype_means()).to(DType::f32).sum().item() == 8);
  // The VAE's per-input variances add to the covariance's diagonal (aggregate posterior).
  diag.fit_prototypes(latents, labels, Tensor::full({2 * per_class, 4}, 0.25, {DType::f64}));
  std::vector<double> sd2 = diag.prototype_scales().to_vector<double>();
  for (size_t i = 0; i < sd.size(); ++i) EXPECT_NEAR(sd2[i] * sd2[i], sd[i] * sd[i] + 0.25, 1e-3);
}

TEST(ProbPsenn, LearnsASmallSubset) {
  data::ImageDataset d = synthetic_images(30, 3, 7);
  for (bool prob : {true, false}) {
    Generator gen(8);
    ProbPsenn net(small_options(3, prob), gen);
    optim::AdamOptions ao;
    ao.lr = 0.01;
    optim::Adam opt(net.parameters(), ao);
    data::Batch b = d.gather(first_n(30));
    double first = 0, last = 0;
    for (int step = 0; step < 25; ++step) {
      ProbPsennLoss l = net.loss(net.forward(b.images, 4), b.labels, {});
      if (step == 0) first = l.nll.item();
      last = l.nll.item();
      opt.zero_grad();
      l.total.backward();
      opt.step();
    }
    EXPECT_LT(last, 0.5 * first) << (prob ? "probabilistic" : "deterministic") << ": first " << first << " last "
                                 << last;
    net.eval();
    ProbPsennPredictions p = predict_dataset(net, d, 10, 1);
    double acc = ops::mean(ops::eq(p.predicted, d.labels).to(DType::f32)).item();
    EXPECT_GE(acc, 0.9) << (prob ? "probabilistic" : "deterministic");
    // Point prototypes give one softmax: no epistemic uncertainty at all.
    if (!prob) {
      EXPECT_EQ(ops::amax(ops::abs(p.entropy.epistemic)).item(), 0.0);
    }
  }
}

TEST(ProbPsenn, TrainerResumesExactly) {
  // Two epochs straight equal one epoch, a checkpoint, a fresh process state and one more;
  // the prototype draws come from the checkpointed default generator.
  data::ImageDataset d = synthetic_images(48, 3, 9);
  Config config(prob_psenn_schema());
  glassbox::testing::TempDir dir;
  glassbox::testing::expect_exact_resume<ProbPsenn>(dir.path(), [&](const fs::path& run, int64_t epochs, bool resume) {
    manual_seed(77);
    Generator gen(10);
    auto net = std::make_unique<ProbPsenn>(small_options(3), gen);
    optim::Adam opt(net->parameters(), optim::AdamOptions{});
    data::LoaderOptions lo;
    lo.batch_size = 16;
    lo.seed = 9;
    data::DataLoader loader(d, lo);
    glassbox::testing::fit_in_run_folder(
        *net, opt, loader, config, "prob_psenn", run, epochs, resume, [&](const data::Batch& b, int64_t) {
          return train::StepResult{net->loss(net->forward(b.images, 3), b.labels, {}).total};
        });
    return net;
  });
}

TEST(ProbPsenn, CheckpointRoundTrips) {
  glassbox::testing::TempDir dir;
  Generator gen(11);
  ProbPsenn net(small_options(3), gen);
  Generator other(99);
  ProbPsenn restored(small_options(3), other);
  glassbox::testing::expect_checkpoint_round_trip(net, restored, Config(prob_psenn_schema()), "prob_psenn",
                                                  dir.path(), 2, 7);
}

TEST(ProbPsenn, ConfigSelectsVariantAndCovariance) {
  Config config(prob_psenn_schema());
  ProbPsennOptions o = prob_psenn_options(config, 10);
  EXPECT_TRUE(o.probabilistic);
  EXPECT_TRUE(o.full_covariance);
  EXPECT_EQ(o.latent_dim, 40);
  ProbPsennLossWeights w = prob_psenn_loss_weights(config);
  EXPECT_EQ(w.reconstruction, 10.0);
  EXPECT_EQ(w.r2, 0.05);
  config.set("variant", "deterministic", "test");
  config.set("covariance", "diagonal", "test");
  o = prob_psenn_options(config, 10);
  EXPECT_FALSE(o.probabilistic);
  EXPECT_FALSE(o.full_covariance);
  EXPECT_THROW(config.set("variant", "bayesian", "test"), ConfigError) << "the schema lists the variants";
}

TEST(ProbPsenn, ShippedConfigsParse) {
  const fs::path configs = fs::path(__FILE__).parent_path().parent_path().parent_path() / "examples" / "configs";
  for (const char* name : {"prob_psenn_mnist.cfg", "prob_psenn_fmnist.cfg", "prob_psenn_demo.cfg"}) {
    Config config = Config::from_file(configs / name, prob_psenn_schema());
    ProbPsennOptions o = prob_psenn_options(config, 10);
    EXPECT_TRUE(o.probabilistic) << name;
    EXPECT_EQ(config.get_int("batch_size"), 128) << name;
    EXPECT_EQ(config.get_double("lr"), 0.001) << name;
  }
}

TEST(ProbPsenn, ExportsAndExplanationsAreValid) {
  glassbox::testing::TempDir dir;
  data::ImageDataset d = synthetic_images(30, 3, 12);
  Generator gen(13);
  ProbPsenn net(small_options(3), gen);
  net.eval();
  write_prob_psenn_exports(net, d, dir.path().string(), 4, 1);
  Tensor grid = io::read_png((dir / "prototype_samples.png").string());
  // 3 rows (classes) by 5 columns (mode + 4 samples) of 32x32 tiles with 2-pixel padding.
  EXPECT_EQ(grid.shape(), (Shape{1, 3 * 34 + 2, 5 * 34 + 2}));
  nlohmann::json j = io::read_json((dir / "prototypes.json").string());
  ASSERT_EQ(j["prototypes"].size(), 3u);
  EXPECT_EQ(j["prototypes"][0]["mean"].size(), 4u);
  ASSERT_EQ(j["prototypes"][0]["scale_tril"].size(), 4u);
  EXPECT_EQ(j["prototypes"][0]["scale_tril"][0][1], 0.0);  // lower triangular
  EXPECT_GT(j["prototypes"][0]["scale_tril"][0][0].get<double>(), 0.0);
  EXPECT_EQ(j["class_weights"][1][1], -0.5);
  // The untrained decoder does not reconstruct the 32 x 32 images, and prototypes.json says so.
  EXPECT_FALSE(j["decoder_check"]["reconstructs"].get<bool>()) << j["decoder_check"].dump();
  EXPECT_GT(j["decoder_check"]["mean_image_sse"].get<double>(), 0.0);
  // Point prototypes: one decoded image per class and no scales.
  Generator gen2(14);
  ProbPsenn point(small_options(3, false), gen2);
  point.eval();
  write_prob_psenn_exports(point, d, (dir / "point").string(), 4, 1);
  EXPECT_EQ(io::read_png((dir / "point" / "prototype_samples.png").string()).shape(), (Shape{1, 3 * 34 + 2, 36}));
  EXPECT_FALSE(io::read_json((dir / "point" / "prototypes.json").string())["prototypes"][0].contains("scale_tril"));

  NoGradGuard ng;
  ProbPsennOutput all = net.forward(d.images, 0, false);
  auto refs = class_distance_references(net, all.latent, d.labels);
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[0].size(), 10u);
  EXPECT_TRUE(std::is_sorted(refs[0].begin(), refs[0].end()));
  nlohmann::json e = prob_psenn_explanation(net, d, 4, refs, 16, 2);
  EXPECT_EQ(e["label"], 1);
  EXPECT_EQ(e["probabilities"].size(), 3u);
  EXPECT_NE(e["prediction"], e["runner_up"]);
  const auto& u = e["uncertainty"];
  EXPECT_NEAR(u["total"].get<double>(), u["aleatoric"].get<double>() + u["epistemic"].get<double>(), 1e-6);
  EXPECT_GE(u["epistemic"].get<double>(), -1e-6);
  const auto& x = e["explanation_uncertainty"];
  EXPECT_GE(x["training_distance_percentile"].get<double>(), 0.0);
  EXPECT_LE(x["training_distance_percentile"].get<double>(), 100.0);
  EXPECT_GE(x["overlap_top2"].get<double>(), 0.0);
  EXPECT_LE(x["overlap_top2"].get<double>(), x["overlap_max"].get<double>());
  EXPECT_THROW(prob_psenn_explanation(net, d, 30, refs, 4, 2), std::exception);
  // The data-set predictive: one distribution per image.
  ProbPsennPredictions p = predict_dataset(net, d, 8, 3);
  EXPECT_EQ(p.probabilities.shape(), (Shape{30, 3}));
  EXPECT_NEAR(ops::sum(p.probabilities, {1}).to_vector<double>()[0], 1.0, 1e-5);
}
