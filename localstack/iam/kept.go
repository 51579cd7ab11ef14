package iam

// Kept says why a grant that no call of the end-to-end tests used stays
// in a role, by "function action" ("*" for every function): what make
// iam-report prints beside it.
var Kept = map[string]string{}
