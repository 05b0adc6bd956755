package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/prometheus/common/model"
)

// SystemConfig selects what the host collector reads.
type SystemConfig struct {
	// Mountpoints whose usage is exported as resonance_disk_*{mountpoint}.
	Mountpoints []string `yaml:"mountpoints"`
	// DiskTimeout bounds one statfs call: a dead network mount must not hang
	// the scrape.
	DiskTimeout model.Duration `yaml:"disk_timeout"`
}

func defaultSystem() SystemConfig {
	return SystemConfig{
		Mountpoints: []string{"/"},
		DiskTimeout: model.Duration(2 * time.Second),
	}
}

func (s *SystemConfig) validate() error {
	seen := map[string]bool{}
	for i, m := range s.Mountpoints {
		if !filepath.IsAbs(m) {
			return fmt.Errorf("mountpoints[%d]: %q is not an absolute path", i, m)
		}
		if seen[m] {
			return fmt.Errorf("mountpoints[%d]: %q is listed twice", i, m)
		}
		seen[m] = true
	}
	if s.DiskTimeout <= 0 {
		return errors.New("disk_timeout: must be greater than 0")
	}
	return nil
}
