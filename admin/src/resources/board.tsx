// The board (conseil d'administration) as it stood on any chosen day, from GET /mandates/board?on=,
// and the mandates whose term ends within 90 days; the list of every mandate follows.
import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { useTranslate } from "react-admin";
import {
  Box,
  Card,
  CardContent,
  CardHeader,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField,
  Typography,
} from "@mui/material";
import { api } from "../api";
import { MandateList } from "./mailing";

interface Seat {
  mandate_id: string;
  person_id: string;
  person_name: string;
  organisation_id: string;
  organisation_name: string;
  role: string;
  term_start: string;
  term_end: string | null;
}

interface Mandate {
  id: string;
  person_id: string;
  person_name: string;
  organisation_name: string;
  role: string;
  term_end: string;
}

export const ENDING_WITHIN_DAYS = 90;

// A day the API sends as 2026-12-02 is a calendar day: read in UTC, it cannot shift a day.
export const frenchDay = (iso: string, style: "short" | "long" = "short") =>
  new Date(`${iso}T00:00:00Z`).toLocaleDateString("fr-FR", {
    timeZone: "UTC",
    ...(style === "long" ? { dateStyle: "long" } : { day: "2-digit", month: "2-digit", year: "numeric" }),
  });

// Today in Paris, as the date input wants it (YYYY-MM-DD).
const todayInParis = () => new Date().toLocaleDateString("sv-SE", { timeZone: "Europe/Paris" });

function BoardOnDay() {
  const translate = useTranslate();
  const [on, setOn] = useState(todayInParis());
  const [seats, setSeats] = useState<Seat[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(on)) return;
    let current = true;
    setError(null);
    api<{ seats: Seat[] }>(`/api/v1/mandates/board?on=${on}`).then(
      (board) => current && setSeats(board.seats),
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [on]);
  const heading = translate("crm.board.on_day", { day: /^\d{4}-\d{2}-\d{2}$/.test(on) ? frenchDay(on, "long") : "…" });
  return (
    <Card component="section" aria-label={heading} sx={{ flex: "3 1 600px" }}>
      <CardHeader
        title={heading}
        titleTypographyProps={{ variant: "h6", component: "h2" }}
        action={
          <TextField
            type="date"
            size="small"
            label={translate("crm.board.day")}
            value={on}
            onChange={(e) => setOn(e.target.value)}
            slotProps={{ inputLabel: { shrink: true } }}
          />
        }
      />
      <CardContent>
        {error && <Typography color="error">{error}</Typography>}
        {seats && seats.length === 0 && <Typography color="text.secondary">{translate("crm.board.empty")}</Typography>}
        {seats && seats.length > 0 && (
          <Table size="small" data-testid="board-on-day">
            <TableHead>
              <TableRow>
                <TableCell>{translate("resources.mandates.fields.role")}</TableCell>
                <TableCell>{translate("resources.mandates.fields.person_name")}</TableCell>
                <TableCell>{translate("resources.mandates.fields.organisation_name")}</TableCell>
                <TableCell>{translate("crm.board.term")}</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {seats.map((s) => (
                <TableRow key={s.mandate_id}>
                  <TableCell>{translate(`crm.board_role.${s.role}`)}</TableCell>
                  <TableCell>
                    <Link to={`/people/${s.person_id}/show`}>{s.person_name}</Link>
                  </TableCell>
                  <TableCell>
                    <Link to={`/organisations/${s.organisation_id}/show`}>{s.organisation_name}</Link>
                  </TableCell>
                  <TableCell sx={{ whiteSpace: "nowrap" }}>
                    {s.term_end
                      ? translate("crm.board.from_to", { start: frenchDay(s.term_start), end: frenchDay(s.term_end) })
                      : translate("crm.board.since", { start: frenchDay(s.term_start) })}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}

function MandatesEnding() {
  const translate = useTranslate();
  const [mandates, setMandates] = useState<Mandate[] | null>(null);
  useEffect(() => {
    api<{ items: Mandate[] }>(`/api/v1/mandates?ending_within_days=${ENDING_WITHIN_DAYS}&sort=term_end&limit=100`).then(
      (result) => setMandates(result.items),
      () => setMandates([]),
    );
  }, []);
  const heading = translate("crm.dashboard.mandates_ending");
  return (
    <Card component="section" aria-label={heading} sx={{ flex: "1 1 280px", maxWidth: { lg: 400 } }}>
      <CardHeader title={heading} titleTypographyProps={{ variant: "h6", component: "h2" }} />
      <CardContent data-testid="mandates-ending">
        {mandates && mandates.length === 0 && (
          <Typography color="text.secondary">{translate("crm.dashboard.nothing")}</Typography>
        )}
        {mandates?.map((m) => (
          <Typography key={m.id} variant="body2" sx={{ mb: 1 }}>
            <Link to={`/mandates/${m.id}`}>{m.person_name}</Link> · {translate(`crm.board_role.${m.role}`)} ·{" "}
            {m.organisation_name} — {translate("crm.board.ends_on", { day: frenchDay(m.term_end) })}
          </Typography>
        ))}
      </CardContent>
    </Card>
  );
}

export function BoardPage() {
  return (
    <>
      <Box sx={{ display: "flex", flexWrap: "wrap", gap: 2, mt: 2 }}>
        <BoardOnDay />
        <MandatesEnding />
      </Box>
      <MandateList />
    </>
  );
}
