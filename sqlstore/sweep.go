package sqlstore

import (
	"context"
	"log/slog"
	"time"
)

// RunSweeper is a store's sweeper loop, run on a goroutine of its own: it
// calls sweep, which deletes the expired rows, every interval until stop is
// closed, and returns then; a sweep in progress sees its context
// cancelled. A failed sweep is logged with slog.Default under name, the
// store's package name, and tried again at the next tick. An interval of
// zero or less turns the sweeper off: RunSweeper only waits for stop (the
// stores of this repository turn a zero interval option into their default
// before they get here).
func RunSweeper(stop <-chan struct{}, interval time.Duration, sweep func(context.Context) (int64, error), name string) {
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
