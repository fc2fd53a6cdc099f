// Links out of an object page: catalogues and image viewers at the object's position, the solar-system services
// for an alert matched to a known asteroid, and the object's pages at the other brokers. Pure (URLs only), so the
// unit tests check them; every value goes through encodeURIComponent.

export interface LinkTarget {
  objectId: string;
  /** 'ztf' or 'lsst'. */
  survey: string;
  ra: number;
  dec: number;
  /** Time of the latest alert (JD), for the solar-system cone search. */
  lastJd: number;
  /** The MPC name or number the alert was matched to, if any. */
  ssName: string | null;
}

export interface ExternalLink {
  /** Stable key (tests, data-link attributes). */
  key: string;
  label: string;
  url: string;
  group: 'position' | 'solar system' | 'brokers';
}

/** MPC observatory codes: Palomar (ZTF), Rubin at Cerro Pachón. */
const OBSERVATORY: Readonly<Record<string, string>> = { ztf: 'I41', lsst: 'X05' };
/** Radius of the position searches: the cross-match radius the pipeline uses. */
const SEARCH_RADIUS_ARCSEC = 5;

const q = encodeURIComponent;

export function externalLinks(target: LinkTarget): ExternalLink[] {
  const ra = target.ra.toFixed(6);
  const dec = target.dec.toFixed(6);
  const position = `${ra} ${dec}`;
  const rubin = target.survey === 'lsst';
  const id = q(target.objectId);
  const links: ExternalLink[] = [
    {
      key: 'tns',
      label: 'TNS',
      url: `https://www.wis-tns.org/search?ra=${ra}&decl=${dec}&radius=${SEARCH_RADIUS_ARCSEC}&coords_unit=arcsec`,
      group: 'position',
    },
    {
      key: 'simbad',
      label: 'SIMBAD',
      url: `https://simbad.cds.unistra.fr/simbad/sim-coo?Coord=${q(position)}&Radius=${SEARCH_RADIUS_ARCSEC}&Radius.unit=arcsec`,
      group: 'position',
    },
    {
      key: 'aladin',
      label: 'Aladin Lite',
      url: `https://aladin.cds.unistra.fr/AladinLite/?target=${q(position)}&fov=0.05&survey=${q('P/PanSTARRS/DR1/color-z-zg-g')}`,
      group: 'position',
    },
    {
      key: 'legacy',
      label: 'Legacy Survey',
      url: `https://www.legacysurvey.org/viewer?ra=${ra}&dec=${dec}&layer=ls-dr10&zoom=16&mark=${ra},${dec}`,
      group: 'position',
    },
    {
      key: 'ps1',
      label: 'PS1',
      url: `https://ps1images.stsci.edu/cgi-bin/ps1cutouts?pos=${q(position)}&filter=color&filetypes=stack&size=240`,
      group: 'position',
    },
  ];
  if (target.ssName !== null && target.ssName !== '') {
    links.push(
      {
        key: 'mpc',
        label: `MPC ${target.ssName}`,
        url: `https://minorplanetcenter.net/db_search/show_object?object_id=${q(target.ssName)}`,
        group: 'solar system',
      },
      {
        key: 'skybot',
        label: 'SkyBoT',
        url:
          `https://ssp.imcce.fr/webservices/skybot/api/conesearch.php?-ep=${target.lastJd.toFixed(5)}` +
          `&-ra=${ra}&-dec=${dec}&-rd=0.0083&-mime=html&-output=object&-loc=${OBSERVATORY[target.survey] ?? '500'}`,
        group: 'solar system',
      },
    );
  }
  links.push(
    {
      key: 'fink',
      label: 'Fink',
      url: rubin ? `https://lsst.fink-portal.org/${id}` : `https://fink-portal.org/${id}`,
      group: 'brokers',
    },
    { key: 'alerce', label: 'ALeRCE', url: `https://alerce.online/object/${id}`, group: 'brokers' },
    {
      key: 'lasair',
      label: 'Lasair',
      url: rubin
        ? `https://lasair.lsst.ac.uk/objects/${id}/`
        : `https://lasair-ztf.lsst.ac.uk/objects/${id}/`,
      group: 'brokers',
    },
  );
  return links;
}
