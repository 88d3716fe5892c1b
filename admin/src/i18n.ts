import polyglotI18nProvider from "ra-i18n-polyglot";
import type { TranslationMessages } from "react-admin";
import englishMessages from "ra-language-english";
import frenchMessages from "ra-language-french";
import { en, fr } from "./messages";
import { problemsEn, problemsFr } from "./problems";

type Tree = { [key: string]: string | Tree };

// Our words override react-admin's key by key (a shallow spread would drop all of `ra`).
function merge(base: Tree, extra: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] =
      typeof value === "object" && typeof current === "object" ? merge(current, value) : value;
  }
  return out;
}

const messages: Record<string, Tree> = {
  fr: merge(merge(frenchMessages as unknown as Tree, fr as unknown as Tree), { crm: { problems: problemsFr } }),
  // English falls back to the French words for whatever it does not name itself; a problem whose
  // code it does not word shows the API's own (English) detail instead.
  en: merge(
    merge(englishMessages as unknown as Tree, merge(fr as unknown as Tree, en as unknown as Tree)),
    { crm: { problems: problemsEn as Tree } },
  ),
};

export const i18nProvider = polyglotI18nProvider((locale) => (messages[locale] ?? messages.fr) as unknown as TranslationMessages, "fr", [
  { locale: "fr", name: "Français" },
  { locale: "en", name: "English" },
]);
