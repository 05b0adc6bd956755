package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Render is the file content of a board: indented JSON, as Grafana exports
// it, so that a diff of two generations reads panel by panel.
func Render(b Board) ([]byte, error) {
	data, err := json.MarshalIndent(b.Dashboard, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.File, err)
	}
	return append(data, '\n'), nil
}

// Write writes every board into dir and removes generated files of boards
// that no longer exist, so the directory holds exactly what Build produced.
func Write(dir string, boards []Board) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, b := range boards {
		data, err := Render(b)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, b.File), data, 0o644); err != nil {
			return err
		}
	}
	stale, err := staleFiles(dir, boards)
	if err != nil {
		return err
	}
	for _, name := range stale {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// Check compares dir with what Write would write. Its error names every
// file that is missing, differs, or is left over from a removed board, and
// says how to fix it.
func Check(dir string, boards []Board) error {
	var problems []string
	for _, b := range boards {
		want, err := Render(b)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, b.File)
		have, err := os.ReadFile(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			problems = append(problems, path+": missing")
		case err != nil:
			return err
		case !bytes.Equal(have, want):
			problems = append(problems, path+": differs from the generator's output")
		}
	}
	stale, err := staleFiles(dir, boards)
	if err != nil {
		return err
	}
	for _, name := range stale {
		problems = append(problems, filepath.Join(dir, name)+": no dashboard generates it")
	}
	if len(problems) > 0 {
		return fmt.Errorf("dashboards are out of date; run `resonancetool dashboards generate` and commit the result:\n  %s",
			strings.Join(problems, "\n  "))
	}
	return nil
}

// staleFiles lists the JSON files in dir that no board generates. Every
// JSON file there is generated: a hand-made dashboard belongs in Go.
func staleFiles(dir string, boards []Board) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var stale []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || filepath.Ext(name) != ".json" {
			continue
		}
		if !slices.ContainsFunc(boards, func(b Board) bool { return b.File == name }) {
			stale = append(stale, name)
		}
	}
	return stale, nil
}
