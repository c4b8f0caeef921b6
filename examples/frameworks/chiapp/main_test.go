package main

import (
	"testing"

	"github.com/sessionkit/sessions/examples/frameworks/internal/apptest"
)

func TestApp(t *testing.T) { apptest.Run(t, newApp) }
