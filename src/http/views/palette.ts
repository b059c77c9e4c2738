/**
 * The colours of the pages, light and dark. Kept as data (not only CSS) so a test can check
 * every text/background pair against WCAG AA in both schemes.
 */

/** One colour scheme: each value is a `#rrggbb` colour, used as a CSS custom property. */
export interface Palette {
  /** Page background behind the card. */
  bg: string;
  /** The card and inputs. */
  surface: string;
  /** Card and separator lines (decorative). */
  border: string;
  /** Input outlines: 3:1 against the surface, as WCAG asks of form controls. */
  fieldBorder: string;
  /** Body text. */
  text: string;
  /** Secondary text (hints, footer, timestamps): still AA on `bg` and `surface`. */
  muted: string;
  /** Links and the primary button. */
  accent: string;
  /** Primary button on hover. */
  accentHover: string;
  /** Text on the primary button. */
  onAccent: string;
  /** Keyboard focus ring. */
  focus: string;
  /** Status icons: foreground on their tinted circle. */
  successFg: string;
  successBg: string;
  warningFg: string;
  warningBg: string;
  dangerFg: string;
  dangerBg: string;
  infoFg: string;
  infoBg: string;
  /** Tinted boxes (the dev banner, form errors, notes) and their text. */
  noteBg: string;
  noteText: string;
}

/** Light scheme, the default. */
export const light: Palette = {
  bg: '#f2f4f7',
  surface: '#ffffff',
  border: '#d9dfe7',
  fieldBorder: '#767f8c',
  text: '#172033',
  muted: '#4f5a6b',
  accent: '#2850c8',
  accentHover: '#1d3ea3',
  onAccent: '#ffffff',
  focus: '#2850c8',
  successFg: '#17703f',
  successBg: '#e2f3e9',
  warningFg: '#8a4f00',
  warningBg: '#fcefd3',
  dangerFg: '#b02121',
  dangerBg: '#fbe5e5',
  infoFg: '#2850c8',
  infoBg: '#e5ebfb',
  noteBg: '#fdf3d8',
  noteText: '#553800',
};

/** Dark scheme, used when the system asks for it (`prefers-color-scheme: dark`). */
export const dark: Palette = {
  bg: '#0d1218',
  surface: '#161d26',
  border: '#2c3644',
  fieldBorder: '#6c788a',
  text: '#e7ecf3',
  muted: '#a4afbe',
  accent: '#8eb0ff',
  accentHover: '#b3caff',
  onAccent: '#0b1324',
  focus: '#8eb0ff',
  successFg: '#6fd69c',
  successBg: '#15301f',
  warningFg: '#f0bf62',
  warningBg: '#33280f',
  dangerFg: '#ff9494',
  dangerBg: '#3b1818',
  infoFg: '#8eb0ff',
  infoBg: '#172441',
  noteBg: '#31270f',
  noteText: '#f5d790',
};
