package cadence

import (
	"fmt"
	"strings"
	"time"
)

// ParseNight reads a night such as "22:00-08:00" as two offsets from
// midnight.
func ParseNight(s string) (start, end time.Duration, err error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want HH:MM-HH:MM", s)
	}
	if start, err = clock(from); err != nil {
		return 0, 0, err
	}
	if end, err = clock(to); err != nil {
		return 0, 0, err
	}
	if start == end {
		return 0, 0, fmt.Errorf("%q: the night has no length", s)
	}
	return start, end, nil
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q: want HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}
