//go:build unix

package statefile

import (
	"fmt"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkMessageStore is the cost of one change of delivery.messages_file
// as Discord's edit on resolve makes it (discord.Editor): a posted Discord message remembered, then the
// same message forgotten when its resolve edited it, alternately, with the
// store empty and with 5,000 messages (the default messages_max_entries).
// Besides the wall time (fsyncs included) it reports the process's CPU time
// (user + system, getrusage) and the bytes the store wrote to its files
// (storeBytesWritten) per change.
func BenchmarkMessageStore(b *testing.B) {
	for _, entries := range []int{0, 5000} {
		b.Run(fmt.Sprintf("entries=%d", entries), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "messages.json")
			s, _, err := Open(path, 5000)
			if err != nil {
				b.Fatal(err)
			}
			// Messages of 8 alerts each (a group firing on several
			// instances), their identities as format.Identity makes them:
			// 5,000 of them are a file of about 2 MB.
			now := time.Date(2026, 12, 2, 18, 0, 0, 123456789, time.UTC)
			alerts := func(i int) []string {
				ids := make([]string, 8)
				for j := range ids {
					ids[j] = fmt.Sprintf("%016x@%d", i*8+j, now.Unix())
				}
				return ids
			}
			// Filled the way the relay fills it, then reopened as after a
			// restart, so the benchmark starts from the stored file.
			for i := range entries {
				s.add(&Message{Target: "discord", ID: strconv.Itoa(1300000000000000000 + i), Alerts: alerts(i), Sent: now})
			}
			if err := s.compact(); err != nil {
				b.Fatal(err)
			}
			if s, _, err = Open(path, 5000); err != nil {
				b.Fatal(err)
			}
			if s.Len() != entries {
				b.Fatalf("%d entries after reopening, want %d", s.Len(), entries)
			}
			cpu0, written0 := processCPU(b), storeBytesWritten.Load()
			i := 0
			for b.Loop() {
				i++
				// A post, then the next change edits it (forgets it).
				k := entries + (i+1)/2
				id := strconv.Itoa(1300000000000000000 + k)
				if i%2 == 1 {
					err = s.Sent("discord", id, alerts(k), now)
				} else {
					err = s.Forget("discord", id)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			// Full, the first post evicted the oldest message.
			want := i % 2
			if entries > 0 {
				want += entries - 1
			}
			if s.Len() != want {
				b.Fatalf("%d entries at the end, want %d", s.Len(), want)
			}
			n := float64(b.N)
			b.ReportMetric(float64(processCPU(b)-cpu0)/n/1e6, "cpu-ms/change")
			b.ReportMetric(float64(storeBytesWritten.Load()-written0)/n/1e3, "kB-written/change")
		})
	}
}

// processCPU is the process's user and system time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
