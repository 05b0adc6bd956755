package charttest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The chart's default images are the ones the release builds: the same
// repository for every component, tagged with the release's version (the
// chart's appVersion names it), multi-arch, with the OCI labels.
func TestChartImagesAreTheReleaseImages(t *testing.T) {
	var release struct {
		DockersV2 []releaseImage `yaml:"dockers_v2"`
	}
	readYAML(t, filepath.Join("..", "..", "..", ".goreleaser.yml"), &release)
	var values struct {
		Exporter, Relay, Rituals struct {
			Image struct{ Repository, Tag string } `yaml:"image"`
		}
	}
	readYAML(t, filepath.Join(chartDir, "values.yaml"), &values)
	var chart struct {
		AppVersion string `yaml:"appVersion"`
	}
	readYAML(t, filepath.Join(chartDir, "Chart.yaml"), &chart)
	if chart.AppVersion == "" {
		t.Fatal("Chart.yaml has no appVersion: the images' tag")
	}
	for id, image := range map[string]struct{ Repository, Tag string }{
		"resonance-exporter": values.Exporter.Image,
		"resonance-relay":    values.Relay.Image,
		"resonancetool":      values.Rituals.Image,
	} {
		i := slices.IndexFunc(release.DockersV2, func(d releaseImage) bool {
			return d.ID == id
		})
		if i < 0 {
			t.Errorf("%s: the release builds no image", id)
			continue
		}
		d := release.DockersV2[i]
		if !slices.Contains(d.Images, image.Repository) {
			t.Errorf("%s: the chart pulls %s, the release pushes %v", id, image.Repository, d.Images)
		}
		// The chart's default tag is its appVersion: the release must tag
		// with the version ({{ .Version }}, the tag without its v).
		if image.Tag != "" || !slices.Contains(d.Tags, "{{ .Version }}") {
			t.Errorf("%s: chart tag %q, release tags %v: want the chart's appVersion and the release's version", id, image.Tag, d.Tags)
		}
		for _, p := range []string{"linux/amd64", "linux/arm64"} {
			if !slices.Contains(d.Platforms, p) {
				t.Errorf("%s: no %s image", id, p)
			}
		}
		for _, l := range []string{"org.opencontainers.image.source", "org.opencontainers.image.version", "org.opencontainers.image.revision", "org.opencontainers.image.licenses"} {
			if d.Labels[l] == "" {
				t.Errorf("%s: no %s label", id, l)
			}
		}
	}
}

// releaseImage is one image of .goreleaser.yml's dockers_v2.
type releaseImage struct {
	ID        string            `yaml:"id"`
	Images    []string          `yaml:"images"`
	Tags      []string          `yaml:"tags"`
	Platforms []string          `yaml:"platforms"`
	Labels    map[string]string `yaml:"labels"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
