// Package rest serves Ratchet's REST resources under /api/v1 (SPEC §4.1):
// tasks, jobs, executions, schedules, workers and deliveries, exactly the
// routes of api.Routes, over the typed service API (lib/service).
//
// Conventions:
//
//   - Lists follow Refine's simple-rest data provider: the query is parsed
//     by api/listquery (_start/_end or offset/limit, _sort/_order, field
//     filters with _ne, _like, _gte and _lte, repeated fields for IN, q),
//     the body is a JSON array, and X-Total-Count and Content-Range give
//     the total. An unknown sort or filter field is a 400.
//   - Bodies are JSON objects with snake_case members. A member the
//     request type does not have is a 400 whose details.field names it
//     (names match exactly); a member of the wrong type or an invalid
//     value is a 400 (InvalidArgumentError) naming the field.
//   - Creates answer 201 with a Location header. POST /jobs with an
//     idempotency_key already used answers 200 with the first job (and its
//     Location) and queues nothing. Deletes answer 204. An asynchronous
//     execute and a schedule trigger answer 202 with the job and its
//     Location.
//   - A synchronous execute answers 200 with the execution; when the task
//     fails, the error envelope with the status of SPEC §2.4 and the
//     execution's id in details.execution_id.
//   - Tasks are addressed by id, uuid or name; jobs, executions and
//     schedules by id or uuid; workers by id. An unknown one is a 404.
//   - POST /tasks takes the task's files as JSON, a zip of the folder
//     (Content-Type application/zip, ?name= when metadata.json names no
//     task), or multipart/form-data with the zip as a file part.
//
// Handlers return errors; the server's single HTTPErrorHandler answers
// them with the error envelope (lib/server).
package rest
