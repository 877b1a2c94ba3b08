// The alternative hypothesis of a test, with scipy.stats' meaning: for a statistic comparing
// x with y, Greater means "x tends to be larger than y".
#pragma once

namespace rs::stats {

enum class Alternative { TwoSided, Greater, Less };

}  // namespace rs::stats
