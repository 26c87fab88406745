package jsondiff

import "testing"

func TestEqualAndDiff(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		eq   bool
	}{
		{`1`, `1.0`, true},
		{`1e2`, `100`, true},
		{`0.1`, `0.10`, true},
		{`12345678901234567890`, `12345678901234567891`, false},
		{`{"a": [1, {"b": null}]}`, `{"a": [1, {"b": null}]}`, true},
		{`{"a": 1}`, `{"a": 1, "b": null}`, false},
		{`"1"`, `1`, false},
		{`[1, 2]`, `[2, 1]`, false},
		{`true`, `true`, true},
		{`null`, `false`, false},
	} {
		got, err := Equal([]byte(tt.a), []byte(tt.b))
		if err != nil || got != tt.eq {
			t.Errorf("Equal(%s, %s) = %v, %v", tt.a, tt.b, got, err)
		}
	}
	if d := Diff([]byte(`{"a b": 1}`), []byte(`{"a b": 2}`)); len(d) != 1 || d[0] != `$["a b"]: expected 1, got 2` {
		t.Errorf("Diff = %v", d)
	}
}
