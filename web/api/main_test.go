package api_test

import (
	"testing"

	"orderdesk/app/apptest"
)

func TestMain(m *testing.M) { apptest.Main(m) }
