// Shallow CBC / RBF / GLVQ (Saralajew et al. 2019, 2025): the paper's formulas against
// hand-computed values, gradient checks of the certificate, the certificate against
// brute force on tiny 2-D problems, projection, learning, checkpoints and exports.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>

#include "engine/autograd/grad_mode.h"
#include "engine/io/json_file.h"
#include "engine/io/png.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "models/cbc/cbc.h"
#include "models/cbc/cbc_task.h"
#include "tests/support/checkpoint_round_trip.h"
#include "tests/support/gradcheck.h"
#include "tests/support/module_compare.h"
#include "tests/support/resume_check.h"
#include "tests/support/temp_dir.h"
#include "trainers/trainer.h"

using namespace glassbox;
using namespace glassbox::models;
using glassbox::testing::grad_input;
using glassbox::testing::gradcheck;
using glassbox::testing::random_tensor;

namespace {

Tensor f64(const std::vector<double>& v, const Shape& s) { return Tensor::from_vector(v, s, {DType::f64}); }
Tensor labels_of(const std::vector<int64_t>& v) { return Tensor::from_vector(v, {int64_t(v.size())}); }

/// n points in [0, 1]^dim of `classes` well separated clusters (class c near corner-ish
/// pattern c), for learning tests.
data::ImageDataset clusters(int64_t n, int64_t classes, int64_t side, uint64_t seed) {
  const int64_t dim = side * side;
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> noise(0.0f, 0.15f);
  std::vector<float> pixels(size_t(n * dim));
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % classes;
    labels[size_t(i)] = c;
    for (int64_t p = 0; p < dim; ++p) {
      const bool on = (p * classes) / dim == c;  // class c lights up its own block of pixels
      pixels[size_t(i * dim + p)] = on ? 0.85f + noise(rng) : noise(rng);
    }
  }
  data::ImageDataset d;
  d.name = "clusters";
  d.images = Tensor::from_vector(pixels, {n, 1, side, side});
  d.labels = Tensor::from_vector(labels, {n});
  d.num_classes = classes;
  for (int64_t c = 0; c < classes; ++c) d.class_names.push_back("class" + std::to_string(c));
  return d;
}

CbcOptions small_options(CbcVariant v, bool squared, int64_t dim, int64_t classes) {
  CbcOptions o;
  o.variant = v;
  o.squared = squared;
  o.input_dim = dim;
  o.num_components = 2 * classes;
  o.num_classes = classes;
  o.concepts_per_class = 2;
  o.sigma_init = squared ? 2.0 : 1.0;
  o.robust_margin = 0.5;
  return o;
}

const std::vector<CbcVariant> kVariants = {CbcVariant::glvq, CbcVariant::rbf,        CbcVariant::robust_rbf,
                                           CbcVariant::cbc,  CbcVariant::stable_cbc, CbcVariant::robust_stable_cbc};


}  // namespace

// ---- Formulas against hand-computed values ----------------------------------------

TEST(CbcFormulas, DistancesAndDetection) {
  Tensor x = f64({0, 0, 3, 4}, {2, 2});
  Tensor w = f64({3, 4}, {1, 2});
  std::vector<double> sq = cbc::component_distances(x, w, true).to_vector<double>();
  EXPECT_NEAR(sq[0], 25.0, 1e-12);
  EXPECT_NEAR(sq[1], 0.0, 1e-12);
  std::vector<double> eu = cbc::component_distances(x, w, false).to_vector<double>();
  EXPECT_NEAR(eu[0], std::sqrt(25.0 + 1e-7), 1e-12);
  EXPECT_NEAR(eu[1], std::sqrt(1e-7), 1e-12);
  // d = exp(-dist / (|sigma| + 1e-7)); sigma's sign does not matter.
  std::vector<double> d = cbc::detection_probability(f64({0, 58, 29, 116}, {2, 2}), f64({58, -58}, {2}))
                              .to_vector<double>();
  EXPECT_NEAR(d[0], 1.0, 1e-12);
  EXPECT_NEAR(d[1], std::exp(-1.0), 1e-9);
  EXPECT_NEAR(d[2], std::exp(-0.5), 1e-9);
  EXPECT_NEAR(d[3], std::exp(-2.0), 1e-9);
}

TEST(CbcFormulas, StableReasoningProbability) {
  // K = 2, C' = 2; columns of R sum to 1, so theta = log R reproduces R under the softmax.
  Tensor r = f64({0.1, 0.2, 0.3, 0.3, 0.4, 0.1, 0.2, 0.4}, {4, 2});
  cbc::Reasoning reasoning = cbc::stable_cbc_reasoning(ops::log(r));
  EXPECT_NEAR(reasoning.positive.to_vector<double>()[2], 0.3, 1e-12);
  EXPECT_NEAR(reasoning.negative.to_vector<double>()[1], 0.1, 1e-12);
  // p_c = sum_k d_k R+_kc + (1 - d_k) R-_kc with d = (0.5, 1):
  // concept 0: 0.5*0.1 + 0.3 + 0.5*0.4 = 0.55; concept 1: 0.5*0.2 + 0.3 + 0.5*0.1 = 0.45.
  std::vector<double> p = cbc::reasoning_probability(f64({0.5, 1.0}, {1, 2}), reasoning).to_vector<double>();
  EXPECT_NEAR(p[0], 0.55, 1e-12);
  EXPECT_NEAR(p[1], 0.45, 1e-12);
}

TEST(CbcFormulas, OriginalCbcReasoning) {
  // One component, one concept: q0 = 0.6, q1 = 0.5 -> r+ = 0.6, r- = 0.4 * 0.5 = 0.2.
  cbc::Reasoning r = cbc::breaking_chopstick_reasoning(f64({0.6, 0.5}, {2, 1, 1}));
  EXPECT_NEAR(r.positive.item(), 0.6, 1e-12);
  EXPECT_NEAR(r.negative.item(), 0.2, 1e-12);
  // p = (d r+ + (1 - d) r-) / (r+ + r- + eps) at d = 0.25: (0.15 + 0.15) / 0.8 = 0.375.
  double p = cbc::reasoning_probability(f64({0.25}, {1, 1}), cbc::normalize_reasoning(r)).item();
  EXPECT_NEAR(p, 0.375, 1e-6);
}

TEST(CbcFormulas, ClassScoresAndMarginLoss) {
  // Concepts (0, 1) belong to class 0, (2, 3) to class 1, (4, 5) to class 2.
  Tensor concepts = f64({0.2, 0.1, 0.3, 0.9, 0.5, 0.4}, {1, 6});
  std::vector<double> s = cbc::class_scores(concepts, 2).to_vector<double>();
  EXPECT_EQ(s, (std::vector<double>{0.2, 0.9, 0.5}));
  Tensor scores = f64({0.2, 0.9, 0.5, 0.2, 0.9, 0.5}, {2, 3});
  // y = 0: relu(0.9 - 0.2 + 0.3) = 1.0; y = 1: relu(0.5 - 0.9 + 0.3) = 0.
  std::vector<double> l = cbc::margin_loss(scores, labels_of({0, 1}), 0.3).to_vector<double>();
  EXPECT_NEAR(l[0], 1.0, 1e-12);
  EXPECT_NEAR(l[1], 0.0, 1e-12);
}

TEST(CbcFormulas, StableCertifiedValueMatchesTheClosedForm) {
  // K = 2, one concept per class, two classes, true class 0.
  Tensor rp = f64({0.5, 0.1, 0.1, 0.4}, {2, 2}), rn = f64({0.1, 0.3, 0.3, 0.2}, {2, 2});
  Tensor d = f64({0.9, 0.2}, {1, 2});
  const double a = 0.9 * (0.1 + 0.1) + 0.2 * (0.3 + 0.4);  // alpha_01 = sum_k d_k (R-_k0 + R+_k1)
  const double b = 0.9 * (0.5 + 0.3) + 0.2 * (0.1 + 0.2);  // beta_01 = sum_k d_k (R+_k0 + R-_k1)
  const double g = (0.1 + 0.3) - (0.3 + 0.2);              // gamma_01 = sum_k R-_k0 - R-_k1
  const double t = (g + std::sqrt(g * g + 4 * a * b)) / (2 * a);
  // At t*, the worst case beta/t - alpha t + gamma is exactly 0.
  EXPECT_NEAR(b / t - a * t + g, 0.0, 1e-12);
  Tensor sigma_min = Tensor::scalar(2.0, {DType::f64});
  double v = cbc::stable_cbc_certified_value(d, {rp, rn}, labels_of({0}), 1, sigma_min).item();
  EXPECT_NEAR(v, 2.0 * std::log(t), 1e-12);
  // The same sample labelled 1 is misclassified: a negative value.
  EXPECT_LT(cbc::stable_cbc_certified_value(d, {rp, rn}, labels_of({1}), 1, sigma_min).item(), 0.0);
}

TEST(CbcFormulas, RobustRbfGlvqAndSquaredConversion) {
  Tensor out = f64({0.6, 0.3, 0.1}, {1, 3});
  Tensor sigma = Tensor::scalar(4.0, {DType::f64});
  // (sigma_min / 2) ln(out_y / max_{c != y} out_c) = 2 ln 2.
  EXPECT_NEAR(cbc::robust_rbf_certified_value(out, labels_of({0}), sigma).item(), 2.0 * std::log(2.0), 1e-12);
  // GLVQ: (d- - d+) / 2.
  Tensor dist = f64({1.0, 3.0, 2.0}, {1, 3});
  EXPECT_NEAR(cbc::glvq_certified_radius(dist, labels_of({0})).item(), 0.5, 1e-12);
  EXPECT_NEAR(cbc::glvq_loss(dist, labels_of({0})).item(), (1.0 - 2.0) / 3.0, 1e-12);
  EXPECT_NEAR(cbc::glvq_certified_radius(dist, labels_of({1})).item(), -1.0, 1e-12);
  // eps = -sqrt(M)/3 + sqrt(M/9 + r/3): M = 9, r = 5 -> -1 + sqrt(1 + 5/3).
  std::vector<double> e =
      cbc::squared_value_to_radius(f64({5.0, -2.0}, {2}), f64({9.0, 9.0}, {2})).to_vector<double>();
  EXPECT_NEAR(e[0], -1.0 + std::sqrt(1.0 + 5.0 / 3.0), 1e-12);
  EXPECT_NEAR(e[1], -2.0, 1e-12);
}

// ---- Gradient checks of the custom pieces (f64) --------------------------------------

TEST(CbcGradients, DistancesAndDetection) {
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return cbc::component_distances(in[0], in[1], false); },
                        {grad_input({3, 4}, 1), grad_input({5, 4}, 2)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return cbc::component_distances(in[0], in[1], true); },
                        {grad_input({3, 4}, 3), grad_input({5, 4}, 4)}));
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) { return cbc::detection_probability(in[0], in[1]); },
      {grad_input({3, 5}, 5, 0.0, 3.0), grad_input({5}, 6, 0.5, 2.0)}));
}

TEST(CbcGradients, ReasoningAndMarginLoss) {
  Tensor labels = labels_of({0, 2, 1});
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) {
        cbc::Reasoning r = cbc::stable_cbc_reasoning(in[1]);
        return cbc::margin_loss(cbc::class_scores(cbc::reasoning_probability(in[0], r), 2), labels, 0.3);
      },
      {grad_input({3, 4}, 7, 0.0, 1.0), grad_input({8, 6}, 8)}));
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) {
        return cbc::reasoning_probability(in[0], cbc::normalize_reasoning(cbc::breaking_chopstick_reasoning(in[1])));
      },
      {grad_input({3, 4}, 9, 0.0, 1.0), grad_input({2, 4, 6}, 10, 0.0, 1.0)}));
}

TEST(CbcGradients, Certificates) {
  Tensor labels = labels_of({0, 2, 1});
  Tensor sigma = Tensor::scalar(1.5, {DType::f64});
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) {
        return cbc::stable_cbc_certified_value(in[0], cbc::stable_cbc_reasoning(in[1]), labels, 2, ops::amin(in[2]));
      },
      {grad_input({3, 4}, 11, 0.05, 1.0), grad_input({8, 6}, 12), grad_input({4}, 13, 1.0, 2.0)}));
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) {
        return cbc::rbf_pairwise_certified_value(in[0], in[1], labels, sigma);
      },
      {grad_input({3, 4}, 14, 0.05, 1.0), grad_input({3, 4}, 15)}));
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) {
        return cbc::robust_rbf_certified_value(ops::matmul(in[0], ops::softmax(in[1], 1).mT()), labels, sigma);
      },
      {grad_input({3, 4}, 16, 0.05, 1.0), grad_input({3, 4}, 17)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return cbc::squared_value_to_radius(in[0], in[1]); },
                        {grad_input({6}, 18, -2.0, 3.0), grad_input({6}, 19, 1.0, 9.0)}));
  EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return cbc::glvq_loss(in[0], labels); },
                        {grad_input({3, 3}, 20, 0.5, 3.0)}));
}

// ---- The certificate against brute force ---------------------------------------------

TEST(CbcCertificate, NoPerturbationWithinTheRadiusChangesThePrediction) {
  // Tiny 2-D problems with three classes: every variant and both distances. For points
  // with a positive radius, perturbations of norm just below it (random directions,
  // including the direction of each component) must never change the prediction.
  std::mt19937_64 rng(42);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (CbcVariant v : kVariants)
    for (bool squared : {false, true}) {
      CbcOptions o = small_options(v, squared, 2, 3);
      o.sigma_init = squared ? 0.3 : 0.4;
      Generator gen(uint64_t(7 + int(v)));
      CbcNet net(o, gen);
      net.to(DType::f64);
      {
        // Spread components and make the reasoning decisive so the certificates are not trivial.
        NoGradGuard ng;
        for (const auto& [name, p] : net.named_parameters()) {
          Tensor t = p;
          if (name == "components") t.copy_(random_tensor(t.shape(), 100 + int(v), 0.0, 1.0));
          if (name == "reasoning_logits" || name == "weights") t.copy_(random_tensor(t.shape(), 200 + int(v), -3, 3));
          if (name == "requiredness") t.copy_(random_tensor(t.shape(), 300 + int(v), 0.0, 1.0));
        }
      }
      int certified = 0;
      for (int trial = 0; trial < 60; ++trial) {
        Tensor x = random_tensor({1, 2}, 1000 + trial, 0.0, 1.0);
        NoGradGuard ng;
        CbcOutput out = net.forward(x);
        Tensor pred = ops::argmax(out.scores, 1);
        const double radius = net.certified_radius(out, pred).item();
        if (!(radius > 1e-6)) continue;
        ++certified;
        std::vector<double> xv = x.to_vector<double>(), moved;
        const int samples = 200;
        for (int s = 0; s < samples; ++s) {
          double dx = normal(rng), dy = normal(rng);
          const double len = std::hypot(dx, dy);
          const double r = radius * (s < samples / 2 ? 0.999 : unit(rng));
          moved.push_back(xv[0] + dx / len * r);
          moved.push_back(xv[1] + dy / len * r);
        }
        std::vector<int64_t> preds = ops::argmax(net.forward(f64(moved, {samples, 2})).scores, 1).to_vector<int64_t>();
        for (int s = 0; s < samples; ++s)
          ASSERT_EQ(preds[size_t(s)], pred.item())
              << cbc_variant_name(v) << (squared ? " squared" : "") << ": x = (" << xv[0] << ", " << xv[1]
              << "), radius " << radius << ", perturbed to (" << moved[size_t(2 * s)] << ", "
              << moved[size_t(2 * s + 1)] << ")";
      }
      EXPECT_GT(certified, 5) << cbc_variant_name(v) << (squared ? " squared" : "");
    }
}

// ---- Model behaviour -------------------------------------------------------------------

TEST(CbcNet, ShapesAndInitialisation) {
  Generator gen(1);
  CbcNet net(CbcOptions{}, gen);  // the paper's robust stable CBC: K = 20, C' = 20, 784-d
  Tensor x = ops::rand({3, 1, 28, 28});
  CbcOutput out = net.forward(x);
  EXPECT_EQ(out.distances.shape(), (Shape{3, 20}));
  EXPECT_EQ(out.concepts.shape(), (Shape{3, 20}));
  EXPECT_EQ(out.scores.shape(), (Shape{3, 10}));
  std::vector<float> w = net.components().to_vector<float>();
  EXPECT_GE(*std::min_element(w.begin(), w.end()), 0.45f);
  EXPECT_LE(*std::max_element(w.begin(), w.end()), 0.55f);
  EXPECT_EQ(net.sigma().to_vector<float>()[0], 58.0f);
  // R+ + R- per concept sums to 1 over components, and r = R+ / pi starts in [0.4, 0.6].
  cbc::Reasoning r = net.reasoning();
  std::vector<double> total = ops::sum(r.positive + r.negative, {0}).to_vector<double>();
  for (double t : total) EXPECT_NEAR(t, 1.0, 1e-5);
  std::vector<double> req = (r.positive / (r.positive + r.negative)).to_vector<double>();
  for (double q : req) {
    EXPECT_GE(q, 0.4 - 1e-5);
    EXPECT_LE(q, 0.6 + 1e-5);
  }
  CbcOptions bad;
  bad.variant = CbcVariant::glvq;
  bad.num_components = 15;
  EXPECT_THROW(CbcNet(bad, gen), std::invalid_argument);
  EXPECT_THROW(parse_cbc_variant("lvq"), std::invalid_argument);
  EXPECT_THROW(net.forward(ops::rand({2, 100})), std::invalid_argument);
}

TEST(CbcNet, EveryVariantLearnsAndProjectionKeepsComponentsInTheUnitBox) {
  data::ImageDataset d = clusters(160, 4, 4, 3);
  data::Batch b = d.gather([] {
    std::vector<int64_t> ids(160);
    for (int64_t i = 0; i < 160; ++i) ids[size_t(i)] = i;
    return ids;
  }());
  for (CbcVariant v : kVariants)
    for (bool squared : {false, true}) {
      Generator gen(5);
      CbcNet net(small_options(v, squared, 16, 4), gen);
      optim::AdamOptions ao;
      ao.lr = 0.05;
      optim::Adam opt(net.parameters(), ao);
      net.add_projections(opt);
      double first = 0, last = 0;
      for (int step = 0; step < 80; ++step) {
        CbcLoss l = net.loss(net.forward(b.images), b.labels);
        if (step == 0) first = l.total.item();
        last = l.total.item();
        opt.zero_grad();
        l.total.backward();
        opt.step();
      }
      const std::string what = std::string(cbc_variant_name(v)) + (squared ? " squared" : "");
      EXPECT_LT(last, first) << what;
      NoGradGuard ng;
      CbcOutput out = net.forward(b.images);
      double acc = ops::mean(ops::eq(ops::argmax(out.scores, 1), b.labels).to(DType::f32)).item();
      EXPECT_GE(acc, 0.95) << what;
      std::vector<float> w = net.components().to_vector<float>();
      EXPECT_GE(*std::min_element(w.begin(), w.end()), 0.0f) << what;
      EXPECT_LE(*std::max_element(w.begin(), w.end()), 1.0f) << what;
      for (const auto& [name, p] : net.named_parameters())
        if (name == "requiredness") {
          std::vector<float> q = p.to_vector<float>();
          EXPECT_GE(*std::min_element(q.begin(), q.end()), 0.0f);
          EXPECT_LE(*std::max_element(q.begin(), q.end()), 1.0f);
        }
    }
}

TEST(CbcNet, ProjectionClampsComponentsAndRequirednessAfterEveryStep) {
  Generator gen(11);
  CbcNet net(small_options(CbcVariant::cbc, false, 16, 4), gen);
  optim::AdamOptions ao;
  ao.lr = 3.0;  // one step moves every entry by about 3: far outside [0, 1] unprojected
  for (double direction : {1.0, -1.0}) {
    optim::Adam opt(net.parameters(), ao);  // fresh moments, so the step follows `direction`
    net.add_projections(opt);
    Tensor total = Tensor::zeros({});
    for (const Tensor& p : net.parameters()) total = total + direction * ops::sum(p);
    opt.zero_grad();
    total.backward();
    opt.step();
    for (const auto& [name, p] : net.named_parameters()) {
      if (name == "sigma") continue;
      std::vector<float> v = p.to_vector<float>();
      const float expected = direction > 0 ? 0.0f : 1.0f;  // descending on +sum drives entries down
      EXPECT_EQ(*std::min_element(v.begin(), v.end()), expected) << name;
      EXPECT_EQ(*std::max_element(v.begin(), v.end()), expected) << name;
    }
  }
}

TEST(CbcNet, CertifiedAccuracyOfAnEvaluation) {
  data::ImageDataset d = clusters(40, 4, 4, 4);
  Generator gen(6);
  CbcNet net(small_options(CbcVariant::robust_stable_cbc, false, 16, 4), gen);
  net.eval();
  CbcEvaluation e = evaluate_cbc(net, d, {0.0, 0.1, 100.0}, "clusters", false);
  EXPECT_EQ(e.confusion.total(), 40);
  EXPECT_EQ(e.certified.total(), 40);
  EXPECT_DOUBLE_EQ(e.certified.clean_accuracy(), e.confusion.accuracy());
  std::vector<double> acc = e.certified.certified_accuracy();
  EXPECT_LE(acc[0], e.confusion.accuracy());
  EXPECT_LE(acc[1], acc[0]);
  EXPECT_EQ(acc[2], 0.0);  // no radius can reach 100 in the unit box with sigma 1
}

TEST(CbcNet, AttackNeverBreaksACertifiedSample) {
  // Faithfulness: after a little robust training, PGD-L2 at eps must leave every sample
  // certified at eps correct, so empirical robust accuracy >= certified accuracy.
  data::ImageDataset d = clusters(64, 4, 4, 12);
  data::Batch b = d.gather([] {
    std::vector<int64_t> ids(64);
    for (int64_t i = 0; i < 64; ++i) ids[size_t(i)] = i;
    return ids;
  }());
  for (CbcVariant v : {CbcVariant::robust_stable_cbc, CbcVariant::robust_rbf, CbcVariant::glvq}) {
    Generator gen(13);
    CbcNet net(small_options(v, false, 16, 4), gen);
    optim::AdamOptions ao;
    ao.lr = 0.05;
    optim::Adam opt(net.parameters(), ao);
    net.add_projections(opt);
    for (int step = 0; step < 40; ++step) {
      CbcLoss l = net.loss(net.forward(b.images), b.labels);
      opt.zero_grad();
      l.total.backward();
      opt.step();
    }
    net.eval();
    metrics::L2AttackOptions attack;
    attack.steps = 20;
    attack.restarts = 2;
    std::optional<CbcEvaluation> e;
    ASSERT_NO_THROW(e.emplace(evaluate_cbc(net, d, {0.2, 0.8, 2.0}, "clusters", false, &attack, 1, 48)))
        << cbc_variant_name(v);
    ASSERT_TRUE(e->certified.has_empirical());
    EXPECT_EQ(e->certified.empirical_samples(), 48);
    std::vector<double> cert = e->certified.certified_accuracy(), emp = e->certified.empirical_accuracy();
    EXPECT_GT(cert[0], 0.0) << cbc_variant_name(v);
    EXPECT_LT(emp[2], 1.0) << cbc_variant_name(v) << ": the attack should break something at 2 (the classes are about 2.4 apart)";
  }
}

TEST(CbcNet, CheckpointRoundTrips) {
  glassbox::testing::TempDir dir;
  Config config(cbc_schema());
  for (CbcVariant v : {CbcVariant::cbc, CbcVariant::robust_stable_cbc, CbcVariant::robust_rbf}) {
    Generator gen(6);
    SCOPED_TRACE(cbc_variant_name(v));
    CbcNet net(small_options(v, false, 16, 4), gen);
    Generator other(99);
    CbcNet restored(small_options(v, false, 16, 4), other);
    glassbox::testing::expect_checkpoint_round_trip(net, restored, config, "cbc", dir / cbc_variant_name(v), 2, 17);
  }
}

TEST(CbcNet, TrainerResumesExactly) {
  data::ImageDataset d = clusters(96, 4, 4, 8);
  Config config(cbc_schema());
  glassbox::testing::TempDir dir;
  glassbox::testing::expect_exact_resume<CbcNet>(
      dir.path(), [&](const std::filesystem::path& run, int64_t epochs, bool resume) {
        Generator gen(5);
        auto net = std::make_unique<CbcNet>(small_options(CbcVariant::cbc, false, 16, 4), gen);
        optim::AdamOptions ao;
        ao.lr = 0.05;
        optim::Adam opt(net->parameters(), ao);
        net->add_projections(opt);
        data::LoaderOptions lo;
        lo.batch_size = 32;
        lo.seed = 9;
        data::DataLoader loader(d, lo);
        glassbox::testing::fit_in_run_folder(*net, opt, loader, config, "cbc", run, epochs, resume,
                                             [&](const data::Batch& b, int64_t) {
                                               return train::StepResult{net->loss(net->forward(b.images), b.labels).total};
                                             });
        return net;
      });
}

TEST(CbcNet, ExportsAndExplanationsAreValid) {
  glassbox::testing::TempDir dir;
  data::ImageDataset d = clusters(12, 4, 4, 9);
  for (CbcVariant v : {CbcVariant::robust_stable_cbc, CbcVariant::rbf, CbcVariant::glvq}) {
    Generator gen(7);
    CbcNet net(small_options(v, false, 16, 4), gen);
    net.eval();
    const std::filesystem::path out = dir / cbc_variant_name(v);
    write_cbc_exports(net, d.class_names, 4, out.string());
    Tensor comps = io::read_png((out / "components.png").string());
    EXPECT_EQ(comps.size(0), 1);
    const int64_t concepts = net.num_concepts();
    EXPECT_EQ(io::read_png((out / "reasoning.png").string()).shape(), (Shape{3, 2 * concepts * 16, 8 * 16}));
    nlohmann::json j = io::read_json((out / "reasoning.json").string());
    ASSERT_EQ(j["concepts"].size(), size_t(concepts));
    EXPECT_EQ(j["concepts"][0]["positive"].size(), 8u);
    EXPECT_EQ(j["variant"], cbc_variant_name(v));
    if (v == CbcVariant::robust_stable_cbc) {
      // pi sums to 1 over components for every concept.
      double prior = 0;
      for (auto& p : j["concepts"][3]["prior"]) prior += p.get<double>();
      EXPECT_NEAR(prior, 1.0, 1e-5);
    }
    nlohmann::json e = explain_cbc_one(net, d, 5);
    EXPECT_EQ(e["label"], 1);
    EXPECT_EQ(e["class_scores"].size(), 4u);
    EXPECT_TRUE(e["certified_radius"].is_number());
    if (v == CbcVariant::robust_stable_cbc) {
      // p_c = positive + negative agreement.
      for (size_t c = 0; c < size_t(concepts); ++c)
        EXPECT_NEAR(e["positive_agreement"][c].get<double>() + e["negative_agreement"][c].get<double>(),
                    e["concept_probabilities"][c].get<double>(), 1e-5);
    }
    EXPECT_THROW(explain_cbc_one(net, d, 12), std::exception);
  }
}
