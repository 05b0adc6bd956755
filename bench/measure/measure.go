// Package measure holds what the bench commands share: the processes they
// measure (started from a binary, or already running), read from /proc,
// and the Alertmanager notification bodies they post.
package measure

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ClockTicks is USER_HZ, 100 on every Linux architecture Go supports here.
const ClockTicks = 100

// Named is one name=value argument of a bench command.
type Named struct{ Name, Value string }

// Args splits the command's arguments name=value, exiting on any other.
func Args(args []string) []Named {
	var out []Named
	for _, arg := range args {
		name, value, ok := strings.Cut(arg, "=")
		if !ok {
			Fatalf("argument %q is not name=value", arg)
		}
		out = append(out, Named{name, value})
	}
	return out
}

// StartRelay starts the resonance-relay binary bin in dir with its
// relay.yml on a free loopback address and waits until it is ready.
func StartRelay(bin, dir, logLevel string) (cmd *exec.Cmd, addr string) {
	addr = FreeAddr()
	cmd = exec.Command(bin, "--config.file="+dir+"/relay.yml", "--web.listen-address="+addr, "--log.level="+logLevel)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	Check(cmd.Start())
	WaitReady("http://" + addr + "/-/ready")
	return cmd, addr
}

// Stop kills cmd and reaps it.
func Stop(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// FreeAddr is a loopback address nothing listens on.
func FreeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Check(err)
	defer l.Close()
	return l.Addr().String()
}

// WaitReady waits up to 10 s for url to answer 200.
func WaitReady(url string) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	Fatalf("not ready: %s", url)
}

// CPUTicks is utime+stime of pid, fields 14 and 15 of /proc/pid/stat.
func CPUTicks(pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	Check(err)
	// The command name (field 2) may hold spaces: count from the last ')'.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseUint(fields[11], 10, 64)
	stime, _ := strconv.ParseUint(fields[12], 10, 64)
	return utime + stime
}

// Status is the value of key in /proc/pid/status, such as "12345 kB" for
// VmRSS, or "?" when it has none.
func Status(pid int, key string) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	Check(err)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// StatusBytes is a kB value of /proc/pid/status in bytes (0 when absent).
func StatusBytes(pid int, key string) uint64 {
	kb, _ := strconv.ParseUint(strings.TrimSuffix(Status(pid, key), " kB"), 10, 64)
	return kb * 1024
}

// Alert is one alert of a webhook body, as Alertmanager v0.31 encodes it.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Notification is an Alertmanager webhook body of alerts of one
// ErrorRateHigh group; seq makes its group key new so that no relay memory
// short-circuits the work.
func Notification(alerts []Alert, severity string, seq int) []byte {
	common := map[string]string{"alertname": "ErrorRateHigh", "severity": severity, "metric": "error_rate", "job": "resonance"}
	body, err := json.Marshal(map[string]any{
		"version": "4", "groupKey": fmt.Sprintf(`{}:{alertname="ErrorRateHigh",seq="%d"}`, seq), "truncatedAlerts": 0,
		"status": "firing", "receiver": severity, "groupLabels": map[string]string{"alertname": "ErrorRateHigh"},
		"commonLabels": common, "commonAnnotations": map[string]string{"summary": "Error Rate Threshold Exceeded"},
		"externalURL": "http://alertmanager:9093", "alerts": alerts,
	})
	Check(err)
	return body
}

// Check exits on err.
func Check(err error) {
	if err != nil {
		Fatalf("%v", err)
	}
}

// Fatalf prints the message, prefixed with the command's name, and exits 1.
func Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s: "+format+"\n", append([]any{os.Args[0][strings.LastIndexByte(os.Args[0], '/')+1:]}, args...)...)
	os.Exit(1)
}
