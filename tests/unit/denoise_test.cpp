// denoise against the truth of a generated test picture: the share of wrong pixels after
// denoising a noisy copy, compared with the noisy copy's own (nearest-level) error; image
// input/output (PGM P2/P5, PNG) and the errors of both.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "atoll/apps/denoise.hpp"
#include "atoll/apps/image.hpp"
#include "atoll/apps/test_image.hpp"
#include "test_util.hpp"

namespace atl {
namespace {

using test::TempDir;

double wrong_share(const Image& a, const Image& b) {
  EXPECT_EQ(a.pixels.size(), b.pixels.size());
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) wrong += a.pixels[i] != b.pixels[i];
  return static_cast<double>(wrong) / static_cast<double>(a.pixels.size());
}

/// Each pixel rounded to the nearest of K levels: what the noisy image says without smoothing.
Image nearest_level(const Image& noisy, std::size_t k) {
  Image out = noisy;
  for (std::uint8_t& p : out.pixels) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < k; ++i) {
      if (std::abs(p - grey_level(i, k)) < std::abs(p - grey_level(best, k))) best = i;
    }
    p = static_cast<std::uint8_t>(std::lround(grey_level(best, k)));
  }
  return out;
}

TEST(Denoise, RecoversAGeneratedPicture) {
  const std::size_t k = 4;
  Image clean = make_test_image(90, 70, k);
  Image noisy = add_noise(clean, 50, 3);
  const double before = wrong_share(nearest_level(noisy, k), clean);
  EXPECT_GT(before, 0.2);
  for (auto c : {std::optional<Consistency>{}, std::optional<Consistency>{Consistency::kFull}}) {
    DenoiseOptions o;
    o.states = k;
    o.sigma = 50;
    o.smoothing = 2;
    EngineOptions e;
    e.threads = 2;
    e.consistency = c;
    DenoiseResult r = denoise(noisy, o, e);
    EXPECT_TRUE(r.converged);
    EXPECT_EQ(r.image.width, 90u);
    EXPECT_EQ(r.image.height, 70u);
    const double after = wrong_share(r.image, clean);
    EXPECT_LT(after, 0.04) << "before " << before;
    EXPECT_LT(after, before / 8);
  }
}

TEST(Denoise, OptionErrorsAreUsageErrors) {
  Image img = make_test_image(8, 8, 2);
  auto message = [&](DenoiseOptions o) {
    try {
      denoise(img, o, {});
    } catch (const Error& e) {
      return (e.kind() == ErrorKind::kUsage ? std::string("usage: ") : std::string()) + e.what();
    }
    return std::string("<no throw>");
  };
  DenoiseOptions o;
  o.sigma = -1;
  EXPECT_EQ(message(o), "usage: --sigma must be positive, got -1");
  o.sigma = 0;
  EXPECT_EQ(message(o), "usage: --sigma must be positive, got 0");
  o.sigma = 10;
  o.states = 1;
  EXPECT_EQ(message(o), "usage: --states must be in 2..64, got 1");
}

TEST(Image, PgmAndPngRoundTrips) {
  Image img = make_test_image(13, 7, 5);
  img.pixels[3] = 1;  // not a level: any grey survives
  TempDir dir;
  for (const char* name : {"a.pgm", "a.PNG", "a.png"}) {
    write_image(dir.file(name), img);
    Image back = read_image(dir.file(name));
    EXPECT_EQ(back.width, 13u);
    EXPECT_EQ(back.height, 7u);
    EXPECT_EQ(back.pixels, img.pixels) << name;
  }
  // Plain (P2) with comments, and a 16-bit P5 scaled to 0..255.
  test::write_file(dir.file("p2.pgm"), "P2\n# comment\n3 2 # more\n10\n0 5 10\n10 1 0\n");
  Image p2 = read_image(dir.file("p2.pgm"));
  EXPECT_EQ(p2.pixels, (std::vector<std::uint8_t>{0, 128, 255, 255, 26, 0}));
  std::string p5 = "P5 2 1 65535\n";
  p5 += std::string("\xff\xff\x80\x00", 4);
  test::write_file(dir.file("p5.pgm"), p5);
  EXPECT_EQ(read_image(dir.file("p5.pgm")).pixels, (std::vector<std::uint8_t>{255, 128}));
}

TEST(Image, Errors) {
  TempDir dir;
  auto error_for = [&](const std::string& bytes) {
    test::write_file(dir.file("x"), bytes);
    return test::error_of([&] { read_image(dir.file("x")); });
  };
  const std::string f = dir.file("x");
  EXPECT_EQ(error_for("P6 1 1 255\n\1\2\3"), f + ": not a PGM (P2/P5) or PNG image");
  EXPECT_EQ(error_for("P5 4 4 255\n\1\2\3"),
            f + ": PGM: truncated: 16 pixels need 16 bytes, the file has 3");
  EXPECT_EQ(error_for("P2 2 1 10\n3 11\n"), f + ": PGM: pixel 1 has value 11 > maxval 10");
  EXPECT_EQ(error_for("P2 2 1 10\n3 x\n"),
            f + ": PGM: expected a pixel value at byte 12, got 'x\\x0a'");
  EXPECT_EQ(error_for("P2 0 1 10\n"), f + ": PGM: the image is empty (0 x 1)");
  EXPECT_EQ(error_for("P2 1 1 70000\n1\n"),
            f + ": PGM: the maximum grey value must be in 1..65535, got 70000");
  EXPECT_NE(error_for("\x89PNG\r\n\x1a\n garbage").find(f + ": PNG: "), std::string::npos);
}

}  // namespace
}  // namespace atl
