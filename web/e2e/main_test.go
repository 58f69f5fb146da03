// Package e2e drives the admin in headless Chromium against a whole OrderDesk.
package e2e

import (
	"testing"

	"orderdesk/app/apptest"
)

func TestMain(m *testing.M) { apptest.Main(m) }
