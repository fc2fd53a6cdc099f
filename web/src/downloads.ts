// Download buttons: links to the REST API in each format, named for the saved file.
import { h } from './dom.ts';
import { DOWNLOAD_FORMATS, EXTENSIONS, FORMAT_LABELS, restUrl, type RestQuery } from './rest.ts';

/**
 * One link per format; `download` names the file. `id` prefixes the links' ids (`<id>-csv`, ...), for the tests.
 */
export function downloadLinks(id: string, name: string, [route, args]: [string, RestQuery]): HTMLElement {
  return h(
    'span',
    { class: 'downloads small', id },
    'Download ',
    ...DOWNLOAD_FORMATS.map((format) =>
      h(
        'a',
        {
          class: 'download',
          id: `${id}-${format}`,
          href: restUrl(route, { ...args, 'output-format': format }),
          download: `${name}.${EXTENSIONS[format]}`,
          dataset: { format },
        },
        FORMAT_LABELS[format],
      ),
    ),
  );
}
