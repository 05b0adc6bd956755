package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// decodeWebhook decodes Alertmanager's webhook body into n with
// encoding/json, as Alertmanager's own code reads it: field names matched
// exactly or else ignoring case, unknown fields skipped. It fails on what
// json.Unmarshal fails on (FuzzDecodeWebhook): malformed JSON, a value of
// the wrong type, a time that is not RFC 3339, data after the object
// (errDataAfter). The errors name the field or the byte offset.
func decodeWebhook(data []byte, n *notification) error {
	err := json.Unmarshal(data, n)
	if err == nil {
		return nil
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		// Unmarshal checks the whole input before it decodes: the object
		// may be complete and followed by something else.
		dec := json.NewDecoder(bytes.NewReader(data))
		var first json.RawMessage
		if dec.Decode(&first) == nil {
			return errDataAfter
		}
	}
	return webhookError(err)
}

var errDataAfter = errors.New("data after the JSON object")

// webhookError says what encoding/json found wrong, in the words of the
// payload rather than of Go's types.
func webhookError(err error) error {
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		badTime *time.ParseError
	)
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("%s at byte %d", syntax.Error(), syntax.Offset)
	case errors.As(err, &typ):
		field := strings.TrimPrefix(typ.Field, "Data.") // notification's embedded template.Data
		if field == "" {
			field = "the payload"
		} else {
			field = fmt.Sprintf("%q", field)
		}
		return fmt.Errorf("%s: %s where %s belongs, at byte %d", field, typ.Value, jsonKind(typ.Type), typ.Offset)
	case errors.As(err, &badTime):
		return fmt.Errorf("startsAt or endsAt: %q is not an RFC 3339 time", badTime.Value)
	}
	return err
}

// jsonKind names the JSON value that decodes into t.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}
