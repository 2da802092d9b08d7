package setup

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWidgetSecret(t *testing.T) {
	none := func(string) string { return "" }
	t.Run("kept in the directory for a durable store", func(t *testing.T) {
		dir := t.TempDir()
		first, err := WidgetSecret(none, dir, "sqlite")
		require.NoError(t, err)
		again, err := WidgetSecret(none, dir, "sqlite")
		require.NoError(t, err)
		assert.Equal(t, first, again, "the same secret after a restart")
		info, err := os.Stat(filepath.Join(dir, "widget-secret"))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	})
	t.Run("fresh for the memory store", func(t *testing.T) {
		dir := t.TempDir()
		a, err := WidgetSecret(none, dir, "memory")
		require.NoError(t, err)
		b, err := WidgetSecret(none, dir, "memory")
		require.NoError(t, err)
		assert.NotEqual(t, a, b)
		_, err = os.Stat(filepath.Join(dir, "widget-secret"))
		assert.ErrorIs(t, err, os.ErrNotExist, "nothing written")
	})
	t.Run("WIDGET_SECRET wins", func(t *testing.T) {
		want := strings.Repeat("k", 40)
		got, err := WidgetSecret(func(k string) string { return map[string]string{"WIDGET_SECRET": want}[k] }, t.TempDir(), "postgres")
		require.NoError(t, err)
		assert.Equal(t, want, string(got))
	})
	t.Run("WIDGET_SECRET too short", func(t *testing.T) {
		_, err := WidgetSecret(func(k string) string { return map[string]string{"WIDGET_SECRET": "short"}[k] }, t.TempDir(), "sqlite")
		require.Error(t, err)
		assert.True(t, errors.Is(err, ErrConfig))
		assert.Contains(t, err.Error(), "WIDGET_SECRET")
	})
	t.Run("an unreadable directory is an error", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
		_, err := WidgetSecret(none, file, "sqlite")
		assert.Error(t, err)
	})
}
