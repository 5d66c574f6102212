package suppress

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
)

// ParseDuration is time.ParseDuration with days (d) and weeks (w) as well:
// the language of Policy.SoftWindow on a command line ("30d", "2w").
func ParseDuration(s string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return 0, err
			}
			return time.Duration(v * float64(u.unit)), nil
		}
	}
	return time.ParseDuration(s)
}

// ParseSince parses the start of a Query: a date (UTC midnight) or an RFC
// 3339 time, or else a duration ("30d") to count back from the latest
// bounce (Lists.Now), returned as back.
func ParseSince(s string) (time.Time, time.Duration, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, 0, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, 0, nil
	}
	if d, err := ParseDuration(s); err == nil && d > 0 {
		return time.Time{}, d, nil
	}
	return time.Time{}, 0, fmt.Errorf("bad --since %q: want a date (2006-01-02), an RFC 3339 time or a duration (30d)", s)
}

// ParseCategories parses a comma-separated list of failure categories
// (hard, soft, policy, complaint) for Query.Categories.
func ParseCategories(s string) ([]classify.Category, error) {
	var cats []classify.Category
	for _, name := range strings.Split(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		c := classify.Category(name)
		if !validCategory(c) || c == classify.CategoryNone {
			return nil, fmt.Errorf("unknown --category %q: want hard, soft, policy or complaint", name)
		}
		if !slices.Contains(cats, c) {
			cats = append(cats, c)
		}
	}
	return cats, nil
}
