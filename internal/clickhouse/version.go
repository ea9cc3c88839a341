package clickhouse

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a ClickHouse server version such as 26.7.2.1.
type Version struct {
	Major, Minor, Patch int
	Raw                 string
}

// ParseVersion reads "major.minor[.patch[.build]]" and ignores a suffix after
// the numbers (for example "-stable").
func ParseVersion(s string) (Version, error) {
	v := Version{Raw: strings.TrimSpace(s)}
	parts := strings.SplitN(v.Raw, ".", 4)
	if len(parts) < 2 {
		return v, fmt.Errorf("parse clickhouse version %q: want major.minor", s)
	}
	nums := []*int{&v.Major, &v.Minor, &v.Patch}
	for i := 0; i < len(nums) && i < len(parts); i++ {
		digits := parts[i]
		if j := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
			digits = digits[:j]
		}
		n, err := strconv.Atoi(digits)
		if err != nil {
			return v, fmt.Errorf("parse clickhouse version %q: %w", s, err)
		}
		*nums[i] = n
	}
	return v, nil
}

// AtLeast reports whether v is major.minor or newer.
func (v Version) AtLeast(major, minor int) bool {
	if v.Major != major {
		return v.Major > major
	}
	return v.Minor >= minor
}

func (v Version) String() string { return v.Raw }

// CapabilitiesFor derives column and binding features from a server version.
// The thresholds are the ClickHouse releases that introduced each feature.
func CapabilitiesFor(t Transport, v Version) Capabilities {
	return Capabilities{
		Transport:            t,
		Version:              v,
		ServerSideParameters: v.AtLeast(19, 11),
		DateTime64:           v.AtLeast(20, 1),
		Map:                  v.AtLeast(21, 1),
		LowCardinality:       v.AtLeast(19, 0),
		TTL:                  v.AtLeast(19, 6),
	}
}
