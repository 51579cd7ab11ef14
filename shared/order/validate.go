package order

// FieldError is one problem with a submitted order. Field is a JSON-pointer-like
// path into the request ("/lines/0/hsCode"), Code a stable machine-readable
// word, Message a sentence for people.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Validate reports every problem with d at once; nil means valid.
func (d *Draft) Validate() []FieldError {
	return nil // TODO: implemented by the domain helper
}
