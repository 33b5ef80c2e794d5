/**
 * The synthesizer of the member template a StackSet deploys to every account.
 *
 * A StackSet instance runs in the member account, so a file asset cannot live
 * in the management account's bootstrap bucket (a Lambda function reads its
 * code from a bucket in its own region, with the identity that deploys it).
 * Every file asset is therefore named in a bucket per region,
 * `<assetBucketPrefix>-<region>`, which the organisation may read; the
 * synthesizer records what must be uploaded there.
 */
import {
  DockerImageAssetLocation,
  FileAssetLocation,
  FileAssetPackaging,
  FileAssetSource,
  Fn,
  ISynthesisSession,
  StackSynthesizer,
} from 'aws-cdk-lib';

/** One object the member template reads from every region's asset bucket. */
export interface MemberAssetObject {
  /** The object key in `<assetBucketPrefix>-<region>`. */
  readonly objectKey: string;
  /** The content hash CDK computed for the asset. */
  readonly sourceHash: string;
  /** How the asset is packaged (a zip of a directory, or a file as is). */
  readonly packaging: string;
}

export class MemberTemplateSynthesizer extends StackSynthesizer {
  public readonly assetObjects: MemberAssetObject[] = [];

  constructor(private readonly assetBucketPrefix: string) {
    super();
  }

  public addFileAsset(asset: FileAssetSource): FileAssetLocation {
    const packaging = asset.packaging ?? FileAssetPackaging.FILE;
    const extension = packaging === FileAssetPackaging.ZIP_DIRECTORY ? '.zip' : '';
    const objectKey = `permission-decay/${asset.sourceHash}${extension}`;
    if (!this.assetObjects.some(o => o.objectKey === objectKey)) {
      this.assetObjects.push({ objectKey, sourceHash: asset.sourceHash, packaging });
    }
    const bucket = `${this.assetBucketPrefix}-\${AWS::Region}`;
    return {
      bucketName: Fn.sub(bucket),
      objectKey,
      httpUrl: Fn.sub(`https://s3.\${AWS::Region}.\${AWS::URLSuffix}/${bucket}/${objectKey}`),
      s3ObjectUrl: Fn.sub(`s3://${bucket}/${objectKey}`),
    };
  }

  public addDockerImageAsset(_asset: unknown): DockerImageAssetLocation {
    throw new Error('The permission-decay member template takes no container image assets: a StackSet cannot publish them per account');
  }

  public synthesize(session: ISynthesisSession): void {
    this.synthesizeTemplate(session);
    this.emitArtifact(session);
  }
}
