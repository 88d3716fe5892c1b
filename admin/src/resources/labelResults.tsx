// A year's label results in one go: paste or type "code;level;green" lines (as the jury's sheet
// has them), see what would change (dry run), then record them, all or nothing.
import { useState } from "react";
import { Title, useTranslate, useCanAccess } from "react-admin";
import {
  Alert,
  Button,
  Card,
  CardContent,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField,
  Typography,
} from "@mui/material";
import { HttpError } from "react-admin";
import { api } from "../api";

interface Outcome {
  line: number;
  code: string;
  name: string;
  level: number;
  green: boolean;
  outcome: string;
  organisation_created: boolean;
}
interface Report {
  year: number;
  dry_run: boolean;
  created: number;
  updated: number;
  unchanged: number;
  organisations_created: number;
  rows: Outcome[];
}

const GREEN = /^(1|oui|yes|vert|true|x)$/i;

function parse(text: string) {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [code = "", level = "", green = ""] = line.split(/[;\t,]/).map((c) => c.trim());
      return { code, level: (level.match(/@/g)?.length ?? Number(level)) || 0, green: GREEN.test(green) };
    });
}

export function LabelResults() {
  const translate = useTranslate();
  const { canAccess } = useCanAccess({ resource: "labels", action: "create" });
  const [year, setYear] = useState(String(new Date().getFullYear()));
  const [text, setText] = useState("");
  const [report, setReport] = useState<Report | null>(null);
  const [errors, setErrors] = useState<{ field: string; detail: string }[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const send = async (dryRun: boolean) => {
    setProblem(null);
    setErrors([]);
    try {
      setReport(
        await api<Report>("/api/v1/labels/results", {
          method: "POST",
          body: JSON.stringify({ year: Number(year), dry_run: dryRun, results: parse(text) }),
        }),
      );
    } catch (error) {
      const body = (error as HttpError).body as { fieldErrors?: { field: string; detail: string }[] } | undefined;
      setProblem((error as Error).message);
      setErrors(body?.fieldErrors ?? []);
      setReport(null);
    }
  };
  const rows = report?.rows ?? [];
  return (
    <Card sx={{ mt: 2 }}>
      <Title title="crm.label_results.title" />
      <CardContent>
        <Stack spacing={2} sx={{ maxWidth: 720 }}>
          <Typography>{translate("crm.label_results.help")}</Typography>
          <TextField
            label={translate("resources.labels.fields.year")}
            type="number"
            value={year}
            onChange={(e) => setYear(e.target.value)}
            sx={{ width: 160 }}
          />
          <TextField
            label={translate("crm.label_results.lines")}
            multiline
            minRows={8}
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder={"2A004;3;non\n97411;5;oui\n200040764;2;"}
          />
          <Stack direction="row" spacing={2}>
            <Button variant="outlined" onClick={() => send(true)} disabled={!text.trim()}>
              {translate("crm.label_results.check")}
            </Button>
            <Button variant="contained" onClick={() => send(false)} disabled={!canAccess || !report?.dry_run}>
              {translate("crm.label_results.record")}
            </Button>
            <Button href={`/api/v1/labels/palmares.csv?year=${year}`}>{translate("crm.label_results.palmares")}</Button>
          </Stack>
          {problem && (
            <Alert severity="error" role="alert">
              {problem}
              <ul>
                {errors.map((e, i) => (
                  <li key={i}>{e.detail}</li>
                ))}
              </ul>
            </Alert>
          )}
          {report && (
            <Alert severity={report.dry_run ? "info" : "success"} data-testid="label-results-report">
              {translate(report.dry_run ? "crm.label_results.would" : "crm.label_results.done", {
                created: report.created,
                updated: report.updated,
                unchanged: report.unchanged,
                organisations: report.organisations_created,
              })}
            </Alert>
          )}
          {rows.length > 0 && (
            <Table size="small">
              <TableHead>
                <TableRow>
                  <TableCell>{translate("crm.imports.line")}</TableCell>
                  <TableCell>{translate("resources.labels.fields.organisation_name")}</TableCell>
                  <TableCell>{translate("resources.labels.fields.level")}</TableCell>
                  <TableCell>{translate("resources.labels.fields.green")}</TableCell>
                  <TableCell />
                </TableRow>
              </TableHead>
              <TableBody>
                {rows.map((row) => (
                  <TableRow key={row.line}>
                    <TableCell>{row.line}</TableCell>
                    <TableCell>{row.name}</TableCell>
                    <TableCell>{"@".repeat(row.level)}</TableCell>
                    <TableCell>{row.green ? "oui" : ""}</TableCell>
                    <TableCell>{row.outcome}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
        </Stack>
      </CardContent>
    </Card>
  );
}
