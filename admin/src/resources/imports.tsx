// CSV import as a wizard: upload, answer the questions about unknown columns, read the dry run's
// report row by row, apply with a progress bar. Every step is the API's (POST /imports,
// GET /imports/{id}, POST /imports/{id}/apply); the page only follows.
import { useEffect, useState } from "react";
import { Datagrid, DateField, List, NumberField, SelectField, TextField, Title, useCanAccess, useTranslate } from "react-admin";
import {
  Alert,
  Box,
  Button,
  Card,
  CardContent,
  LinearProgress,
  MenuItem,
  Stack,
  Step,
  StepLabel,
  Stepper,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField as MuiTextField,
  Typography,
} from "@mui/material";
import { HttpError } from "react-admin";
import { api, problemText } from "../api";
import { importKindChoices, importStatusChoices } from "../choices";

interface Question {
  column: string;
  position: number;
  looks_like: string;
  suggested?: string | null;
}
interface RowError {
  line: number;
  column: string;
  why: string;
  code?: string | null;
  params?: Record<string, unknown> | null;
}
interface Report {
  encoding: string;
  delimiter_name?: string;
  header_line?: number;
  mapping?: { column: string; field: string; by: string }[];
  rows: number;
  errors: RowError[];
  error_count: number;
  warnings?: RowError[];
  to_create: number;
  to_update: number;
  unchanged: number;
}
interface ImportBatch {
  id: string;
  status: "checking" | "checked" | "applying" | "applied" | "failed";
  processed: number;
  total: number;
  report: Report | null;
}

const STEPS = ["upload", "mapping", "report", "apply"] as const;

function RowsTable({ rows, label }: { rows: RowError[]; label: string }) {
  const translate = useTranslate();
  if (rows.length === 0) return null;
  return (
    <>
    <Typography variant="subtitle1" component="h3">
      {label}
    </Typography>
    <Table size="small" aria-label={label} sx={{ mb: 2 }}>
      <TableHead>
        <TableRow>
          <TableCell>{translate("crm.imports.line")}</TableCell>
          <TableCell>{translate("crm.imports.column")}</TableCell>
          <TableCell>{translate("crm.imports.why")}</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {rows.map((row, i) => (
          <TableRow key={i}>
            <TableCell>{row.line}</TableCell>
            <TableCell>{row.column ? translate(`crm.import_column.${row.column}`, { _: row.column }) : "—"}</TableCell>
            <TableCell>{problemText(row.code, row.params, row.why)}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
    </>
  );
}

export function ImportWizard() {
  const translate = useTranslate();
  const { canAccess: mayImport } = useCanAccess({ resource: "imports", action: "create" });
  const [kind, setKind] = useState("people");
  const [file, setFile] = useState<File | null>(null);
  const [questions, setQuestions] = useState<Question[]>([]);
  const [accepted, setAccepted] = useState<string[]>([]);
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [batch, setBatch] = useState<ImportBatch | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const running = batch?.status === "checking" || batch?.status === "applying";
  useEffect(() => {
    if (!batch || !running) return;
    const timer = setTimeout(async () => {
      try {
        setBatch(await api<ImportBatch>(`/api/v1/imports/${batch.id}`));
      } catch (error) {
        setProblem((error as Error).message);
      }
    }, 700);
    return () => clearTimeout(timer);
  }, [batch, running]);

  const upload = async () => {
    if (!file) return;
    setBusy(true);
    setProblem(null);
    const form = new FormData();
    form.append("kind", kind);
    form.append("file", file);
    if (Object.keys(mapping).length) form.append("mapping", JSON.stringify(mapping));
    try {
      setBatch(await api<ImportBatch>("/api/v1/imports", { method: "POST", body: form }));
      setQuestions([]);
    } catch (error) {
      const body = (error as HttpError).body as { questions?: Question[]; accepted_fields?: string[] } | undefined;
      if (body?.questions?.length) {
        setQuestions(body.questions);
        setAccepted(body.accepted_fields ?? []);
        setMapping(Object.fromEntries(body.questions.map((q) => [q.column, q.suggested ?? "ignore"])));
      } else {
        setProblem((error as Error).message);
      }
    } finally {
      setBusy(false);
    }
  };

  const apply = async () => {
    if (!batch) return;
    setProblem(null);
    try {
      setBatch(await api<ImportBatch>(`/api/v1/imports/${batch.id}/apply`, { method: "POST" }));
    } catch (error) {
      setProblem((error as Error).message);
    }
  };

  const restart = () => {
    setBatch(null);
    setFile(null);
    setQuestions([]);
    setMapping({});
    setProblem(null);
  };

  const step = batch ? (batch.status === "applying" || batch.status === "applied" ? 3 : 2) : questions.length ? 1 : 0;
  const report = batch?.report;
  const percent = batch && batch.total ? Math.round((100 * batch.processed) / batch.total) : 0;

  return (
    <Card sx={{ mt: 2 }}>
      <Title title="crm.imports.title" />
      <CardContent>
        <Stepper activeStep={step} sx={{ mb: 3 }} alternativeLabel>
          {STEPS.map((s) => (
            <Step key={s}>
              <StepLabel>{translate(`crm.imports.steps.${s}`)}</StepLabel>
            </Step>
          ))}
        </Stepper>
        {problem && (
          <Alert severity="error" role="alert" sx={{ mb: 2 }}>
            {problem}
          </Alert>
        )}
        {!batch && (
          <Stack spacing={2} sx={{ maxWidth: 560 }}>
            <MuiTextField select label={translate("crm.imports.kind")} value={kind} onChange={(e) => setKind(e.target.value)}>
              <MenuItem value="people">{translate("resources.people.name", { smart_count: 2 })}</MenuItem>
              <MenuItem value="organisations">{translate("resources.organisations.name", { smart_count: 2 })}</MenuItem>
            </MuiTextField>
            <Button variant="outlined" component="label">
              {file ? file.name : translate("crm.imports.choose")}
              <input
                hidden
                type="file"
                accept=".csv,.txt,text/csv"
                aria-label={translate("crm.imports.choose")}
                data-testid="import-file"
                onChange={(e) => {
                  setFile(e.target.files?.[0] ?? null);
                  setQuestions([]);
                  setMapping({});
                }}
              />
            </Button>
            {questions.length > 0 && (
              <Box>
                <Alert severity="info" sx={{ mb: 2 }}>
                  {translate("crm.imports.questions")}
                </Alert>
                {questions.map((q) => (
                  <Stack key={q.column} direction="row" spacing={2} alignItems="center" sx={{ mb: 1 }}>
                    <Typography sx={{ minWidth: 180 }}>
                      « {q.column} » <small>({q.looks_like})</small>
                    </Typography>
                    <MuiTextField
                      select
                      size="small"
                      label={translate("crm.imports.read_as", { column: q.column })}
                      value={mapping[q.column] ?? "ignore"}
                      onChange={(e) => setMapping({ ...mapping, [q.column]: e.target.value })}
                      sx={{ minWidth: 220 }}
                    >
                      <MenuItem value="ignore">{translate("crm.imports.ignore")}</MenuItem>
                      {accepted.map((f) => (
                        <MenuItem key={f} value={f}>
                          {translate(`crm.import_column.${f}`, { _: f })}
                        </MenuItem>
                      ))}
                    </MuiTextField>
                  </Stack>
                ))}
              </Box>
            )}
            <Button variant="contained" disabled={!file || busy || !mayImport} onClick={upload}>
              {translate("crm.imports.check")}
            </Button>
          </Stack>
        )}
        {batch && running && (
          <Box sx={{ mb: 2 }}>
            <Typography>{translate(`crm.imports.status.${batch.status}`)}</Typography>
            <LinearProgress
              variant="determinate"
              value={percent}
              data-testid="import-progress"
              aria-label={translate(`crm.imports.status.${batch.status}`)}
              sx={{ height: 10, borderRadius: 1 }}
            />
            <Typography variant="body2">
              {batch.processed} / {batch.total}
            </Typography>
          </Box>
        )}
        {batch && !running && report && (
          <Box data-testid="import-report">
            <Typography variant="h6" component="h2" sx={{ mb: 1 }}>
              {translate(`crm.imports.status.${batch.status}`)}
            </Typography>
            <Typography sx={{ mb: 1 }}>
              {translate("crm.imports.summary", {
                rows: report.rows,
                create: report.to_create,
                update: report.to_update,
                unchanged: report.unchanged,
                errors: report.error_count,
              })}
            </Typography>
            <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
              {translate("crm.imports.read", {
                encoding: report.encoding,
                delimiter: translate(`crm.delimiter.${report.delimiter_name || "semicolon"}`),
                header: report.header_line ?? 1,
              })}
            </Typography>
            {report.mapping && report.mapping.length > 0 && (
              <Typography variant="body2" sx={{ mb: 2 }}>
                {translate("crm.imports.mapping")}{" "}
                {report.mapping
                  .map((m) => `« ${m.column} » → ${translate(`crm.import_column.${m.field}`, { _: m.field })}`)
                  .join(" · ")}
              </Typography>
            )}
            <RowsTable rows={report.errors} label={translate("crm.imports.errors")} />
            <RowsTable rows={report.warnings ?? []} label={translate("crm.imports.warnings")} />
            <Stack direction="row" spacing={2}>
              {batch.status === "checked" && report.error_count === 0 && (
                <Button variant="contained" onClick={apply} disabled={!mayImport}>
                  {translate("crm.imports.apply")}
                </Button>
              )}
              <Button onClick={restart}>{translate("crm.imports.again")}</Button>
            </Stack>
          </Box>
        )}
      </CardContent>
    </Card>
  );
}

export function ImportList() {
  return (
    <Box>
      <ImportWizard />
      <List resource="imports" title=" " sort={{ field: "created_at", order: "DESC" }} actions={false} empty={false} disableSyncWithLocation>
        <Datagrid bulkActionButtons={false} rowClick={false}>
          <DateField source="created_at" showTime locales="fr-FR" options={{ timeZone: "Europe/Paris" }} />
          <TextField source="filename" />
          <SelectField source="kind" choices={importKindChoices} />
          <SelectField source="status" choices={importStatusChoices} />
          <NumberField source="row_count" sortable={false} />
          <NumberField source="error_count" sortable={false} />
        </Datagrid>
      </List>
    </Box>
  );
}
