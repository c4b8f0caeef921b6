// Package sqlsweep runs the sweeper of the SQL stores.
package sqlsweep

import (
	"context"
	"log/slog"
	"time"
)

// Run calls sweep every interval until stop is closed, and returns then;
// a sweep in progress sees its context cancelled. A failed sweep is logged
// under the store's name and tried again at the next tick. A negative
// interval turns the sweeper off: Run only waits for stop. The stores'
// options never pass zero, which means their default.
func Run(stop <-chan struct{}, interval time.Duration, sweep func(context.Context) (int64, error), name string) {
	if interval <= 0 {
		<-stop
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel()
	}()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := sweep(ctx); err != nil && ctx.Err() == nil {
				slog.Default().Warn(name+": sweeping expired sessions failed", slog.Any("error", err))
			}
		}
	}
}
