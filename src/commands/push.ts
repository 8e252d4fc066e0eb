import {TransferCommand, transferArgs, transferFlags} from '../transfer-command.js';

export default class Push extends TransferCommand {
  static override summary = 'Push an image to a hub registry through the Docker engine, with a fresh token.';
  static override description =
    'A bare name goes to your namespace: `hub push myapp:1.0` means REGISTRY/USERNAME/myapp:1.0 (the local image is tagged so first). A name with a registry is used as it is.';
  static override examples = [
    '<%= config.bin %> push myapp:1.0',
    '<%= config.bin %> push registry.example.com/team/app:2',
    '<%= config.bin %> push myapp:1.0 --json',
  ];

  static override args = transferArgs;
  static override flags = transferFlags;

  protected readonly direction = 'push';
}
