package benchmarks

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
)

// redisStats is what a real Redis reports about the work it did: per
// command, the calls and the microseconds spent in them (INFO
// commandstats), and the CPU time of the whole process (INFO cpu), which
// adds the reading and writing of the connections.
type redisStats struct {
	usec  map[string]float64 // by command name, lower case
	calls map[string]float64
	cpu   float64 // used_cpu_user + used_cpu_sys, in seconds
}

// readRedisStats reads the stats through c, a client without the counting
// hook, so that INFO is not counted as the library's.
func readRedisStats(b *testing.B, c *redis.Client) redisStats {
	info, err := c.Info(context.Background(), "commandstats", "cpu").Result()
	if err != nil {
		b.Fatalf("INFO: %v", err)
	}
	st := redisStats{usec: map[string]float64{}, calls: map[string]float64{}}
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		name, fields, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if cmd, ok := strings.CutPrefix(name, "cmdstat_"); ok {
			for _, f := range strings.Split(fields, ",") {
				k, v, _ := strings.Cut(f, "=")
				n, _ := strconv.ParseFloat(v, 64)
				switch k {
				case "usec":
					st.usec[cmd] += n
				case "calls":
					st.calls[cmd] += n
				}
			}
			continue
		}
		if name == "used_cpu_user" || name == "used_cpu_sys" {
			n, _ := strconv.ParseFloat(fields, 64)
			st.cpu += n
		}
	}
	return st
}

// report adds, per request, the microseconds Redis spent in the commands
// the library sent (redis-us/op: a script's time includes its own calls,
// which are not added again) and the CPU time of the Redis process
// (redis-cpu-us/op), from the stats before the run.
func (after redisStats) report(b *testing.B, before redisStats, sent []string) {
	var us float64
	for _, name := range sent {
		us += after.usec[name] - before.usec[name]
	}
	b.ReportMetric(us/float64(b.N), "redis-us/op")
	b.ReportMetric((after.cpu-before.cpu)*1e6/float64(b.N), "redis-cpu-us/op")
}

// processCPU returns the CPU time (user and system) this process has used,
// in seconds: the client and the library, and the harness around them,
// the same for every benchmark.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
