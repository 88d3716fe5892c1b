import type { ReactNode } from "react";
import {
  AppBar,
  Layout as RaLayout,
  LocalesMenuButton,
  Menu,
  TitlePortal,
  useCanAccess,
  useGetIdentity,
  useTranslate,
} from "react-admin";
import EmojiEventsIcon from "@mui/icons-material/EmojiEvents";
import SettingsIcon from "@mui/icons-material/Settings";
import { Chip } from "@mui/material";

// The role is always in sight, so nobody wonders why a button is missing.
function RoleChip() {
  const { identity } = useGetIdentity();
  const translate = useTranslate();
  if (!identity?.role) return null;
  return (
    <Chip
      size="small"
      data-testid="role"
      label={translate(`crm.role.${identity.role}`)}
      sx={{ mr: 1, bgcolor: "rgba(0,0,0,0.25)", color: "#fff" }}
    />
  );
}

function CrmAppBar() {
  return (
    <AppBar toolbar={<LocalesMenuButton />}>
      <TitlePortal />
      <RoleChip />
    </AppBar>
  );
}

function CrmMenu() {
  const translate = useTranslate();
  const { canAccess: mayRecordLabels } = useCanAccess({ resource: "labels", action: "create" });
  const { canAccess: mayEditSettings } = useCanAccess({ resource: "settings", action: "edit" });
  return (
    <Menu>
      <Menu.DashboardItem />
      <Menu.ResourceItems />
      {mayRecordLabels && (
        <Menu.Item to="/label-results" primaryText={translate("crm.label_results.title")} leftIcon={<EmojiEventsIcon />} />
      )}
      {mayEditSettings && <Menu.Item to="/settings" primaryText={translate("crm.settings.menu")} leftIcon={<SettingsIcon />} />}
    </Menu>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  return (
    <RaLayout appBar={CrmAppBar} menu={CrmMenu}>
      {children}
    </RaLayout>
  );
}
