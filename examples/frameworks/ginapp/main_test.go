package main

import (
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/sessionkit/sessions/examples/frameworks/internal/apptest"
)

func init() { gin.SetMode(gin.TestMode) }

func TestApp(t *testing.T) { apptest.Run(t, newApp) }

func TestWrappedApp(t *testing.T) { apptest.Run(t, newWrappedApp) }
