import { useState } from "react";
import { Box, Button, Typography } from "@mui/material";
import { Confirm, useCanAccess, useNotify, useRecordContext, useRefresh, useTranslate } from "react-admin";
import { api } from "../api";

// On a person's page: the access export (JSON and readable summary, each audited by the API) and
// the erasure, for admins only (the API refuses the others anyway).
export function PersonalData() {
  const record = useRecordContext();
  const translate = useTranslate();
  const notify = useNotify();
  const refresh = useRefresh();
  const { canAccess } = useCanAccess({ resource: "audit-log", action: "list" });
  const [confirming, setConfirming] = useState(false);
  if (!record || !canAccess) return null;
  const base = `/api/v1/people/${record.id}`;
  const erase = async () => {
    setConfirming(false);
    try {
      await api(`${base}/erasure`, { method: "POST", body: JSON.stringify({ reason: "request" }) });
      notify("crm.privacy.erased", { type: "info" });
      refresh();
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  return (
    <Box sx={{ my: 2 }}>
      <Typography variant="subtitle2">{translate("crm.privacy.title")}</Typography>
      <Box sx={{ display: "flex", gap: 1, flexWrap: "wrap", mt: 1 }}>
        <Button variant="outlined" href={`${base}/access-export`}>
          {translate("crm.privacy.export_json")}
        </Button>
        <Button variant="outlined" href={`${base}/access-export/summary`}>
          {translate("crm.privacy.export_summary")}
        </Button>
        <Button variant="outlined" color="error" onClick={() => setConfirming(true)}>
          {translate("crm.privacy.erase")}
        </Button>
      </Box>
      <Confirm
        isOpen={confirming}
        title="crm.privacy.erase_title"
        content="crm.privacy.erase_content"
        onConfirm={erase}
        onClose={() => setConfirming(false)}
      />
    </Box>
  );
}
