package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/sdk"
)

// upper is a minimal plugin with one task.
type upper struct{}

func (upper) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:    "upper",
		Version: "1.0.0",
		Tasks: []sdk.TaskSpec{{
			Name:        "upper",
			InputSchema: json.RawMessage(`{"type":"object","required":["text"]}`),
		}},
	}, nil
}

func (upper) Execute(_ context.Context, _ string, input json.RawMessage, _ sdk.ExecContext) (json.RawMessage, error) {
	var in struct{ Text *string }
	if json.Unmarshal(input, &in) != nil || in.Text == nil {
		return nil, sdk.NewError(core.KindValidation, "text is required")
	}
	return json.Marshal(map[string]string{"text": strings.ToUpper(*in.Text)})
}

// A plugin's main is one call to Serve. (Not run here: Serve needs the
// host's handshake.)
func ExampleServe() {
	sdk.Serve(upper{})
}

// A task fails with a kind Ratchet records as the execution's error_type
// and maps to an HTTP status.
func ExampleNewError() {
	_, err := upper{}.Execute(context.Background(), "upper", json.RawMessage(`{}`), sdk.ExecContext{})
	var ce *core.Error
	if errors.As(err, &ce) {
		fmt.Println(ce.Kind, "-", ce.Message, "-", ce.HTTPStatus())
	}
	// Output: ValidationError - text is required - 400
}

func ExampleInfo_Validate() {
	info, _ := upper{}.Describe(context.Background())
	fmt.Println(info.Validate())
	fmt.Println(sdk.Info{Tasks: []sdk.TaskSpec{{Name: "a"}, {Name: "a"}}}.Validate())
	// Output:
	// <nil>
	// plugin name is empty
	// task a is described twice
}
