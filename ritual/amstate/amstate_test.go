package amstate

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/client/alert"
	"github.com/prometheus/alertmanager/api/v2/client/silence"
	"github.com/prometheus/alertmanager/api/v2/models"

	"github.com/quantum-resonance/telemetry/tooltest"
)

// startAlertmanager runs the pinned Alertmanager with one receiver that
// sends nowhere.
func startAlertmanager(t *testing.T) string {
	am := tooltest.Path(t, "alertmanager")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte("route: {receiver: none}\nreceivers: [{name: none}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := tooltest.FreeAddr(t)
	cmd := exec.Command(am, "--config.file="+cfg, "--storage.path="+dir, "--web.listen-address="+addr, "--cluster.listen-address=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return "http://" + addr
			}
		}
	}
	t.Fatal("alertmanager not ready")
	return ""
}

func ptr[T any](v T) *T { return &v }

func TestReadsSilencesAndSilencedAlerts(t *testing.T) {
	url := startAlertmanager(t)
	c, err := New(url)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	_, err = c.api.Silence.PostSilences(silence.NewPostSilencesParamsWithContext(t.Context()).WithSilence(&models.PostableSilence{
		Silence: models.Silence{
			Matchers:  models.Matchers{{Name: ptr("alertname"), Value: ptr("HighCPU"), IsRegex: ptr(false), IsEqual: ptr(true)}},
			StartsAt:  ptr(strfmt.DateTime(now.Add(-time.Minute))),
			EndsAt:    ptr(strfmt.DateTime(now.Add(time.Hour))),
			CreatedBy: ptr("oncall"),
			Comment:   ptr("deploying the new miner"),
		},
	}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.api.Alert.PostAlerts(alert.NewPostAlertsParamsWithContext(t.Context()).WithAlerts(models.PostableAlerts{
		{Alert: models.Alert{Labels: models.LabelSet{"alertname": "HighCPU", "severity": "warning"}}, StartsAt: strfmt.DateTime(now)},
		{Alert: models.Alert{Labels: models.LabelSet{"alertname": "ErrorStorm", "severity": "critical"}}, StartsAt: strfmt.DateTime(now)},
	}))
	if err != nil {
		t.Fatal(err)
	}
	var st *State
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if st, err = c.Read(t.Context()); err != nil {
			t.Fatal(err)
		}
		if st.Suppressed["HighCPU"] != "" || time.Now().After(deadline) {
			break
		}
	}
	if len(st.Silences) != 1 || st.Silences[0].Matchers != `{alertname="HighCPU"}` || st.Silences[0].CreatedBy != "oncall" {
		t.Errorf("silences = %+v", st.Silences)
	}
	if st.Suppressed["HighCPU"] != "silenced" || st.Suppressed["ErrorStorm"] != "" {
		t.Errorf("suppressed = %v, want HighCPU silenced and ErrorStorm not", st.Suppressed)
	}
}

func TestUnreachableAlertmanagerIsAnError(t *testing.T) {
	c, err := New("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(t.Context()); err == nil {
		t.Error("no error")
	}
	if _, err := New("not a url"); err == nil {
		t.Error("a bad URL was accepted")
	}
}
